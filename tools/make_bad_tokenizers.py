#!/usr/bin/env python3
"""Writes tests/data/bad/tokenizer/: broken tokenizer.json files, one problem
each, and expected.txt ("FILE STATUS" per line) with the status that
mcl_tokenizer_load must return. Run from the project root:
    python3 tools/make_bad_tokenizers.py
"""
import copy
import json
import os

OUT = 'tests/data/bad/tokenizer'

BASE = {
    "version": "1.0",
    "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": None,
    "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False,
              "vocab": {"<|endoftext|>": 0, "a": 1, "b": 2, "ab": 3, "\u0120": 4, "\u0120ab": 5},
              "merges": ["a b", "\u0120 ab"]},
}


def edit(fn):
    t = copy.deepcopy(BASE)
    fn(t)
    return json.dumps(t, ensure_ascii=False)


def setm(key, value):
    return lambda t: t['model'].__setitem__(key, value)


def vocab_add(key, value):
    return lambda t: t['model']['vocab'].__setitem__(key, value)


def added(**kw):
    tokdef = dict(BASE['added_tokens'][0], id=7, content="<x>")
    tokdef.update(kw)
    return lambda t: t['added_tokens'].append(tokdef)


def nested(depth):
    p = {"type": "ByteLevel"}
    for _ in range(depth):
        p = {"type": "Sequence", "pretokenizers": [p]}
    return lambda t: t.__setitem__('pre_tokenizer', p)


good = json.dumps(BASE, ensure_ascii=False)
F, U = 'MCL_ERR_FORMAT', 'MCL_ERR_UNSUPPORTED'
CASES = [
    ('not_json.json', 'this is not JSON\n', F),
    ('empty.json', '', F),
    ('truncated.json', good[:len(good) // 2], F),
    ('trailing_garbage.json', good + ' }', F),
    ('top_level_array.json', '[1, 2, 3]', F),
    ('model_missing.json', edit(lambda t: t.pop('model')), F),
    ('model_unigram.json', edit(setm('type', 'Unigram')), U),
    ('model_wordpiece.json', edit(setm('type', 'WordPiece')), U),
    ('model_dropout.json', edit(setm('dropout', 0.1)), U),
    ('vocab_not_object.json', edit(setm('vocab', ["a", "b"])), F),
    ('vocab_id_negative.json', edit(vocab_add('c', -1)), F),
    ('vocab_id_huge.json', edit(vocab_add('c', 2000000000)), F),
    ('vocab_id_1e308.json', edit(vocab_add('c', 1e308)), F),
    ('vocab_id_fraction.json', edit(vocab_add('c', 1.5)), F),
    ('vocab_id_string.json', edit(vocab_add('c', "9")), F),
    ('vocab_duplicate_id.json', edit(vocab_add('c', 2)), F),
    ('merges_unknown_token.json', edit(setm('merges', ["a b", "x y"])), F),
    ('merges_result_not_in_vocab.json', edit(setm('merges', ["a b", "b a"])), F),
    ('merges_no_space.json', edit(setm('merges', ["ab"])), F),
    ('merges_three_parts.json', edit(setm('merges', ["a b c"])), F),
    ('merges_bad_pair.json', edit(setm('merges', [["a", "b", "c"]])), F),
    ('merges_not_array.json', edit(setm('merges', {"a": "b"})), F),
    ('unk_not_in_vocab.json', edit(setm('unk_token', '<unk>')), F),
    ('added_bad_id.json', edit(added(id="x")), F),
    ('added_negative_id.json', edit(added(id=-5)), F),
    ('added_huge_id.json', edit(added(id=1 << 40)), F),
    ('added_duplicate_id.json', edit(added(id=0)), F),
    ('added_empty_content.json', edit(added(content="")), F),
    ('added_not_array.json', edit(lambda t: t.__setitem__('added_tokens', {"id": 0})), F),
    ('added_flag_not_bool.json', edit(added(lstrip="yes")), F),
    ('pretok_unknown.json', edit(lambda t: t.__setitem__('pre_tokenizer', {"type": "Metaspace"})), U),
    ('pretok_no_type.json', edit(lambda t: t.__setitem__('pre_tokenizer', {"add_prefix_space": True})), F),
    ('pretok_nested_too_deep.json', edit(nested(20)), U),
    ('split_bad_regex.json', edit(lambda t: t.__setitem__('pre_tokenizer', {
        "type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated", "invert": False})), U),
    ('split_bad_behavior.json', edit(lambda t: t.__setitem__('pre_tokenizer', {
        "type": "Split", "pattern": {"String": " "}, "behavior": "Sideways", "invert": False})), U),
    ('split_no_pattern.json', edit(lambda t: t.__setitem__('pre_tokenizer', {
        "type": "Split", "behavior": "Removed", "invert": False})), F),
    ('decoder_unknown.json', edit(lambda t: t.__setitem__('decoder', {"type": "WordPiece"})), U),
    ('normalizer_unknown.json', edit(lambda t: t.__setitem__('normalizer', {"type": "NFKC"})), U),
    ('post_processor_template.json', edit(lambda t: t.__setitem__('post_processor', {"type": "TemplateProcessing"})), U),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'expected.txt'), 'w') as ex:
        for name, text, status in CASES:
            with open(os.path.join(OUT, name), 'w', encoding='utf-8') as f:
                f.write(text)
            ex.write('%s %s\n' % (name, status))


if __name__ == '__main__':
    main()
