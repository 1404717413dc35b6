#!/usr/bin/env python3
"""Writes tests/data/tokenizer/: small tokenizer.json variants that exercise
the features the two shipped tokenizers do not (string-form merges, Split
behaviors, Whitespace, add_prefix_space, use_regex false, added-token
lstrip/rstrip/single_word, BPEDecoder with end_of_word_suffix,
continuing_subword_prefix, unk_token, byte_fallback), and cases.json with the
ids and the decoded text that the Hugging Face `tokenizers` library gives.

Needs `pip install tokenizers` (only to regenerate; the tests read the
committed files). Run from the project root:
    python3 tools/make_tokenizer_cases.py ../shared/models/shakespeare-mamba/tokenizer.json
"""
import copy
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

OUT = 'tests/data/tokenizer'
TEXTS = [
    "Hello world", "  leading and trailing  ", "O Romeo, Romeo! wherefore art thou Romeo?",
    "tabs\tand\nnew\n\nlines", "numbers 12345 and 3.14", "I'm can't we'll they've",
    "caf\u00e9 cafe\u0301 na\u00efve", "\u65e5\u672c\u8a9e \U0001F642", "", "a", "<x>  sp  <y>  q",
    "the word sword words word_ word.", "<|endoftext|>First<|endoftext|>", "x" * 40,
    "MIXED case-words; with punctuation!!! ...", "\u00c5ngstr\u00f6m \u212b A\u030a",
]


def variant(base, name, **edits):
    t = copy.deepcopy(base)
    for k, v in edits.items():
        t[k] = v
    return name, t


def shakespeare_variants(base):
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    bl_noregex = dict(bl, use_regex=False)
    seq = lambda *p: {"type": "Sequence", "pretokenizers": list(p)}
    split = lambda pat, beh, inv=False: {"type": "Split", "pattern": pat, "behavior": beh, "invert": inv}
    out = []
    s = copy.deepcopy(base)
    s['model']['merges'] = [' '.join(m) for m in s['model']['merges'] if ' ' not in ''.join(m)]
    out.append(('string_merges', s))
    out.append(variant(base, 'prefix_space', pre_tokenizer=dict(bl, add_prefix_space=True)))
    out.append(variant(base, 'no_regex', pre_tokenizer=bl_noregex))
    out.append(variant(base, 'split_digits', pre_tokenizer=seq(
        split({"Regex": "\\p{N}{1,3}"}, "Isolated"),
        split({"Regex": " ?\\p{L}+|\\s+"}, "Isolated"), bl_noregex)))
    for beh in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
        out.append(variant(base, 'split_' + beh, pre_tokenizer=seq(split({"String": " "}, beh), bl_noregex)))
    out.append(variant(base, 'split_invert', pre_tokenizer=seq(
        split({"Regex": "[a-z]+"}, "MergedWithNext", True), bl_noregex)))
    out.append(variant(base, 'whitespace', pre_tokenizer=seq({"type": "Whitespace"}, bl_noregex)))
    out.append(variant(base, 'whitespace_split', pre_tokenizer=seq({"type": "WhitespaceSplit"}, bl_noregex)))
    a = copy.deepcopy(base)
    a['normalizer'] = {"type": "NFC"}
    n = len(a['model']['vocab'])
    flags = dict(single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
    a['added_tokens'] += [
        dict(flags, id=n, content="<x>", lstrip=True),
        dict(flags, id=n + 1, content="<y>", rstrip=True),
        dict(flags, id=n + 2, content="word", single_word=True, special=False, normalized=True),
        dict(flags, id=n + 3, content="  ", special=False, normalized=True),
        dict(flags, id=n + 4, content="caf\u00e9", special=False, normalized=True),
    ]
    out.append(('added_flags', a))
    return out


def trained_variants():
    words = ("the quick brown fox jumps over the lazy dog while the other dogs sleep "
             "and a wordy writer writes words about wording ").split()
    corpus = [' '.join(words[i:] + words[:i]) for i in range(len(words))] * 20
    out = []
    t = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    t.decoder = decoders.BPEDecoder(suffix="</w>")
    t.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=120, special_tokens=["[UNK]"],
                                                      end_of_word_suffix="</w>", show_progress=False))
    out.append(('suffix_unk', json.loads(t.to_str())))
    t = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", fuse_unk=True))
    t.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    t.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=110, special_tokens=["[UNK]"],
                                                      continuing_subword_prefix="##", show_progress=False))
    out.append(('prefix_fuse_unk', json.loads(t.to_str())))
    t = Tokenizer(models.BPE(byte_fallback=True))
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    t.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, show_progress=False,
        special_tokens=["<0x%02X>" % b for b in range(256)]))
    out.append(('byte_fallback', json.loads(t.to_str())))
    return out


def truncate(t, n):
    """Keeps the ids below n and the merges among them (smaller files)."""
    m = t['model']
    m['vocab'] = {k: v for k, v in m['vocab'].items() if v < n}
    m['merges'] = [p for p in m['merges'] if ''.join(p) in m['vocab']]
    return t


def main(base_path):
    base = truncate(json.load(open(base_path, encoding='utf-8')), 768)
    os.makedirs(OUT, exist_ok=True)
    cases = {"generator": "tools/make_tokenizer_cases.py, tokenizers " + tokenizers.__version__, "variants": []}
    for name, t in shakespeare_variants(base) + trained_variants():
        fname = name + '.json'
        with open(os.path.join(OUT, fname), 'w', encoding='utf-8') as f:
            json.dump(t, f, ensure_ascii=False, separators=(',', ':'))
        hf = Tokenizer.from_file(os.path.join(OUT, fname))
        rows = []
        for text in TEXTS:
            ids = hf.encode(text).ids
            rows.append({"text": text, "ids": ids, "decoded": hf.decode(ids, skip_special_tokens=False)})
        cases["variants"].append({"file": fname, "cases": rows})
    with open(os.path.join(OUT, 'cases.json'), 'w', encoding='utf-8') as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)


if __name__ == '__main__':
    main(sys.argv[1])
