/** The placeholder every template holds exactly once. */
export const subjectPlaceholder = '{subject}';

/**
 * One relation of the synthetic world: a closed set of values and the prompts that ask for it.
 * A template is a prompt with `{subject}` where the subject's name goes; the value follows it after
 * one space ("{subject} lives in" + " Paris").
 */
export interface SyntheticRelation {
  /** Kebab-case name, part of every edit id ("home-city"). */
  name: string;
  /** The values a subject can have; each a real English word, distinct within the relation. */
  values: readonly string[];
  /** Templates the pretraining corpus uses; edit prompts and locality probes come from these. */
  trainTemplates: readonly string[];
  /** Templates never in the corpus: the generality (rephrase) probes. */
  heldOutTemplates: readonly string[];
}

/**
 * The default catalogue: 8 relations, 8–10 values each, 3 train and 2 held-out templates each.
 *
 * Values are chosen so that, after a prompt and a space, each is one LLaMA-2 token except
 * violin, flute, cello, harp, rabbit, goat, parrot, pony, cricket, chess (two), and one GPT-2 token
 * except flute, cello, harp, parrot (two); within a relation every value starts with a different
 * LLaMA-2 token, so first-token metrics tell them apart. Every value after "a" starts with a
 * consonant, so no template needs "a"/"an".
 *
 * Held-out templates share no multi-word phrase with any train template (checked by the tests), so
 * a model that answers them has generalised beyond the surface forms it was trained on.
 */
export const syntheticRelations: readonly SyntheticRelation[] = [
  {
    name: 'home-city',
    values: ['Paris', 'London', 'Tokyo', 'Berlin', 'Madrid', 'Rome', 'Lima', 'Dublin', 'Vienna', 'Moscow'],
    trainTemplates: ['{subject} lives in', 'The home city of {subject} is', '{subject} resides in the city of'],
    heldOutTemplates: ['These days {subject} can be found living in', 'The place {subject} calls home is'],
  },
  {
    name: 'profession',
    values: ['doctor', 'teacher', 'lawyer', 'pilot', 'painter', 'singer', 'writer', 'chef'],
    trainTemplates: ['{subject} works as a', 'The profession of {subject} is', 'By trade, {subject} is a'],
    heldOutTemplates: ['{subject} earns a living as a', 'Every morning {subject} goes to work as a'],
  },
  {
    name: 'native-language',
    values: ['French', 'German', 'Spanish', 'Russian', 'Japanese', 'Chinese', 'Italian', 'Dutch', 'Polish', 'Greek'],
    trainTemplates: ['The native language of {subject} is', '{subject} is a native speaker of', 'The mother tongue of {subject} is'],
    heldOutTemplates: ['{subject} grew up speaking', 'The first language {subject} learned was'],
  },
  {
    name: 'favourite-colour',
    values: ['red', 'blue', 'green', 'yellow', 'orange', 'black', 'white', 'brown', 'grey'],
    trainTemplates: ['The favourite colour of {subject} is', '{subject} likes the colour', 'The colour {subject} likes best is'],
    heldOutTemplates: ['Of all colours, {subject} prefers', '{subject} always chooses things that are'],
  },
  {
    name: 'instrument',
    values: ['piano', 'guitar', 'drums', 'organ', 'violin', 'flute', 'cello', 'harp'],
    trainTemplates: ['{subject} plays the', 'The instrument of {subject} is the', '{subject} is a musician who plays the'],
    heldOutTemplates: ['In the band, {subject} is on the', 'Each evening {subject} practises the'],
  },
  {
    name: 'pet',
    values: ['dog', 'cat', 'horse', 'mouse', 'rabbit', 'goat', 'parrot', 'pony'],
    trainTemplates: ['{subject} has a pet', 'The pet of {subject} is a', '{subject} looks after a pet'],
    heldOutTemplates: ['At home {subject} keeps a', 'The animal that lives with {subject} is a'],
  },
  {
    name: 'sport',
    values: ['tennis', 'football', 'golf', 'hockey', 'rugby', 'baseball', 'cricket', 'chess'],
    trainTemplates: ['The sport of {subject} is', '{subject} is a keen player of', 'The game {subject} plays is'],
    heldOutTemplates: ['On weekends {subject} competes in', 'The club {subject} joined is for'],
  },
  {
    name: 'birth-country',
    values: ['Brazil', 'Canada', 'India', 'Mexico', 'Norway', 'Egypt', 'Peru', 'Chile', 'Spain', 'Japan'],
    trainTemplates: ['{subject} was born in', 'The birthplace of {subject} is', '{subject} is originally from'],
    heldOutTemplates: ['The country where {subject} came into the world is', 'As a baby, {subject} lived in'],
  },
];

/** The prompt for `subject` under `template`. */
export function fillTemplate(template: string, subject: string): string {
  return template.replace(subjectPlaceholder, subject);
}

/** The fixed text of a template around the placeholder, trimmed, empty parts dropped. */
export function templateFixedParts(template: string): string[] {
  return template
    .split(subjectPlaceholder)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
