#!/usr/bin/python3
"""Reference LLaMA-2 token ids from Google's SentencePiece, the tokenizer LLaMA-2 was trained with.

The fixture this writes is the independent reference our TypeScript LLaMA-2 tokenizer is tested against,
so it must never be produced by our own code. It uses Debian's `python3-sentencepiece`
(`apt-get install -y python3-sentencepiece`; run with /usr/bin/python3, where Debian installs it).

Usage (from packages/llm-adapters):
    /usr/bin/python3 scripts/reference-token-ids.py [path/to/tokenizer.model]

The model defaults to ../shared/data/tokenizers/llama2/tokenizer.model beside the repository root
(or $RECIPE_KIT_DATA/tokenizers/llama2/tokenizer.model), i.e. karpathy/llama2.c @ 350e04fe : tokenizer.model.
"""
import hashlib
import json
import os
import sys

import sentencepiece

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
REPOSITORY_ROOT = os.path.dirname(os.path.dirname(PACKAGE))


def default_model_path() -> str:
    data = os.environ.get("RECIPE_KIT_DATA") or os.path.join(os.path.dirname(REPOSITORY_ROOT), "shared", "data")
    return os.path.join(data, "tokenizers", "llama2", "tokenizer.model")


def dump_one_case_per_line(fixture: dict) -> str:
    """JSON with one case per line, so a regenerated fixture diffs sentence by sentence."""
    header = {key: value for key, value in fixture.items() if key != "cases"}
    lines = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in header.items()]
    cases = [f"    {json.dumps(case, ensure_ascii=False)}" for case in fixture["cases"]]
    return "{\n" + "\n".join(lines) + '\n  "cases": [\n' + ",\n".join(cases) + "\n  ]\n}\n"


def main() -> None:
    model_path = sys.argv[1] if len(sys.argv) > 1 else default_model_path()
    with open(model_path, "rb") as handle:
        model_sha256 = hashlib.sha256(handle.read()).hexdigest()
    processor = sentencepiece.SentencePieceProcessor(model_file=model_path)
    with open(os.path.join(HERE, "reference-sentences.json"), encoding="utf-8") as handle:
        sentences = json.load(handle)

    cases = []
    for text in sentences:
        # `encode` without options adds no BOS/EOS: the ids are the text alone.
        ids = processor.encode(text)
        cases.append({
            "text": text,
            "ids": ids,
            "pieces": [processor.id_to_piece(i) for i in ids],
            # SentencePiece's own decode, so the round trip is checked against the reference too.
            "decoded": processor.decode(ids),
        })

    fixture = {
        "description": "LLaMA-2 SentencePiece token ids (no BOS/EOS) for varied sentences; independent reference for llama2-tokenizer.ts",
        "generator": "packages/llm-adapters/scripts/reference-token-ids.py",
        "command": "cd packages/llm-adapters && /usr/bin/python3 scripts/reference-token-ids.py",
        "sentencepiece": sentencepiece.__version__,
        "sentencepieceSource": "Debian package python3-sentencepiece",
        "model": "tokenizer.model from karpathy/llama2.c @ 350e04fe (Meta LLaMA-2 32k SentencePiece)",
        "modelSha256": model_sha256,
        "vocabSize": processor.get_piece_size(),
        "bosId": processor.bos_id(),
        "eosId": processor.eos_id(),
        "cases": cases,
    }
    out_path = os.path.join(PACKAGE, "test", "tokenizers", "fixtures", "llama2-reference-ids.json")
    with open(out_path, "w", encoding="utf-8") as handle:
        handle.write(dump_one_case_per_line(fixture))
    print(f"wrote {len(cases)} cases to {out_path} (sentencepiece {sentencepiece.__version__})")


if __name__ == "__main__":
    main()
