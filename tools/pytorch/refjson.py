"""Writing reference files: JSON whose floats read back as the same float32, written atomically."""
import json
import math
import os

import numpy as np


def to_json(value, indent=None):
    """JSON with every float as the shortest decimal that reads back as the same float32 (numpy prints float32 in
    that form). With an indent, objects go one member per line and lists stay inline; without, all is inline."""
    if isinstance(value, dict):
        if indent is None:
            return "{" + ", ".join(f'"{k}": {to_json(v)}' for k, v in value.items()) + "}"
        pad = "  " * (indent + 1)
        items = [f'{pad}"{k}": {to_json(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(v, indent) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite value {value} cannot be written as JSON")
        return str(np.float32(value))
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_atomically(path, text):
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temp, path)
