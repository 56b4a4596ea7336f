#!/usr/bin/python3
"""Reference llama2.c token ids, computed by karpathy/llama2.c's own run.c (compiled here with gcc).

Our TypeScript port of run.c's tokenizer (src/tokenizers/llama2c-tokenizer.ts) is tested against the
fixture this writes, so the fixture must come from run.c itself, never from our code. run.c is built
with -DTESTING (which leaves out its main) into a shared library, with a small C shim that calls its
build_tokenizer / encode / decode; Python drives it through ctypes.

Usage (from packages/llm-adapters):
    /usr/bin/python3 scripts/reference-llama2c-ids.py path/to/llama2.c/run.c [path/to/tok512.bin]

run.c: karpathy/llama2.c @ 350e04fe : run.c. The tokenizer defaults to
../shared/data/models/stories260K/tok512.bin beside the repository root (or $RECIPE_KIT_DATA/...).
"""
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
REPOSITORY_ROOT = os.path.dirname(os.path.dirname(PACKAGE))

# Calls run.c's own functions; only the BOS/EOS skipping (our Tokenizer contract) is added, and
# decode keeps run.c's previous-token rule (strip one leading space right after BOS).
SHIM = r"""
#include "run.c"
static Tokenizer tokenizer;
void shim_build(char* path, int vocab_size) { build_tokenizer(&tokenizer, path, vocab_size); }
int shim_encode(char* text, int bos, int* out) { int n = 0; encode(&tokenizer, text, bos, 0, out, &n); return n; }
int shim_decode(int* ids, int n, char* out) {
    int length = 0, prev = -1;
    for (int i = 0; i < n; i++) {
        if (ids[i] != 1 && ids[i] != 2) {
            char* piece = decode(&tokenizer, prev, ids[i]);
            size_t piece_length = strlen(piece);
            memcpy(out + length, piece, piece_length);
            length += piece_length;
        }
        prev = ids[i];
    }
    return length;
}
"""

SENTENCES = [
    "Once upon a time",
    "Once upon a time, there was a little girl named Lily.",
    "She loved to play outside in the sunshine.",
    "One day, Tom and his mom went to the park. They saw a big red ball!",
    "\"Can I have it?\" asked Tim. \"Yes,\" said Mom.",
    "The cat was sad because it could not find its toy.",
    "They were happy and played all day. The end.",
    "a",
    " ",
    "",
    "  two leading spaces and trailing  ",
    "Line one\nLine two",
    "In 2024 there were 365 days.",
    "Café naïve façade",
    "é",
    "Emoji 😀 and 🦙",
    "東京",
    "The mother tongue of Danielle Darrieux is",
    "xyzzy qwfp zzz",
]


def default_tokenizer_path() -> str:
    data = os.environ.get("RECIPE_KIT_DATA") or os.path.join(os.path.dirname(REPOSITORY_ROOT), "shared", "data")
    return os.path.join(data, "models", "stories260K", "tok512.bin")


def count_tokens(path: str) -> int:
    """tokenizer.bin holds no vocabulary size (run.c takes it from the model); count records to EOF."""
    with open(path, "rb") as handle:
        data = handle.read()
    offset, count = 4, 0
    while offset < len(data):
        length = int.from_bytes(data[offset + 4:offset + 8], "little", signed=True)
        offset += 8 + length
        count += 1
    return count


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run_c = os.path.abspath(sys.argv[1])
    tokenizer_path = sys.argv[2] if len(sys.argv) > 2 else default_tokenizer_path()
    with open(run_c, "rb") as handle:
        run_c_sha256 = hashlib.sha256(handle.read()).hexdigest()
    with open(tokenizer_path, "rb") as handle:
        tokenizer_sha256 = hashlib.sha256(handle.read()).hexdigest()
    vocab_size = count_tokens(tokenizer_path)

    with tempfile.TemporaryDirectory() as build:
        shim_path = os.path.join(build, "shim.c")
        with open(shim_path, "w") as handle:
            handle.write(SHIM)
        library_path = os.path.join(build, "librunc.so")
        subprocess.run(["gcc", "-O2", "-DTESTING", "-shared", "-fPIC", "-I", os.path.dirname(run_c),
                        "-o", library_path, shim_path, "-lm"], check=True)
        library = ctypes.CDLL(library_path)
        library.shim_build(tokenizer_path.encode(), vocab_size)

        cases = []
        for text in SENTENCES:
            encoded = text.encode("utf-8")
            out = (ctypes.c_int * (len(encoded) + 3))()
            count = library.shim_encode(encoded, 1, out)
            ids = list(out[:count])
            decoded_bytes = ctypes.create_string_buffer(64 * (len(ids) + 1))
            length = library.shim_decode((ctypes.c_int * len(ids))(*ids), len(ids), decoded_bytes)
            cases.append({
                "text": text,
                "idsWithBos": ids,
                "decoded": decoded_bytes.raw[:length].decode("utf-8", errors="replace"),
            })

    fixture = {
        "description": "llama2.c run.c encode (with BOS) and decode on tok512.bin; independent reference for llama2c-tokenizer.ts",
        "generator": "packages/llm-adapters/scripts/reference-llama2c-ids.py",
        "command": "cd packages/llm-adapters && /usr/bin/python3 scripts/reference-llama2c-ids.py path/to/llama2.c/run.c",
        "runC": "karpathy/llama2.c @ 350e04fe : run.c, built with gcc -DTESTING",
        "runCSha256": run_c_sha256,
        "tokenizer": "models/stories260K/tok512.bin (shared data)",
        "tokenizerSha256": tokenizer_sha256,
        "vocabSize": vocab_size,
    }
    header = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in fixture.items()]
    body = [f"    {json.dumps(case, ensure_ascii=False)}" for case in cases]
    out_path = os.path.join(PACKAGE, "test", "tokenizers", "fixtures", "llama2c-tok512-reference-ids.json")
    # One case per line, so a regenerated fixture diffs sentence by sentence.
    with open(out_path, "w", encoding="utf-8") as handle:
        handle.write("{\n" + "\n".join(header) + '\n  "cases": [\n' + ",\n".join(body) + "\n  ]\n}\n")
    print(f"wrote {len(cases)} cases to {out_path} (run.c sha256 {run_c_sha256[:12]})")


if __name__ == "__main__":
    main()
