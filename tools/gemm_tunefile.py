"""Writes a tuning file that applies gemm.cl parameters to every shape class
(class any over the defaults), for the device of a template tuning file, or
removes it; used on the GPU machine to run the tests and `mambacl bench`
with a gemm.cl configuration other than the built-in one. A file that was
there before the first write is kept aside (<name>.json.saved) and put back
by 'none'; 'none' removes only a file of this script.
usage: python3 tools/gemm_tunefile.py TEMPLATE.json DIR [NAME=V,NAME=V | none]
(writes DIR/tuning/<device key>.json, the name src/device/device.c gives)"""
import json
import os
import sys

template, folder, spec = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "none"
doc = json.load(open(template))


def slug(s):
    """src/device/device.c append_slug: runs of other characters as one '-'."""
    out, dash = "", False
    for c in s:
        if c.isalnum() or c == ".":
            if dash and out and not out.endswith("_"):
                out += "-"
            out += c.lower()
            dash = False
        else:
            dash = True
    return out


d = doc["device"]
key = "__".join(slug(d[f]) for f in ("platform", "name", "driver"))
path = os.path.join(folder, "tuning", key + ".json")
saved = path + ".saved"
MARK = "any (tools/gemm_tunefile.py)"  # only files of this script are removed
if spec in ("none", "default", ""):
    if os.path.exists(saved):
        os.replace(saved, path)
        print(f"tuning file {path}: the one from before put back")
    elif os.path.exists(path) and MARK in open(path).read():
        os.remove(path)
        print(f"tuning file {path}: removed")
    sys.exit(0)
if os.path.exists(path) and not os.path.exists(saved):
    os.replace(path, saved)
params = {}
for item in spec.split(","):
    name, value = item.split("=")
    params[name] = int(value)
doc["families"] = {"gemm.cl": [{"params": params, "shape": MARK}]}
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(doc, f, indent=1)
print(f"tuning file {path}: gemm.cl {params}")
