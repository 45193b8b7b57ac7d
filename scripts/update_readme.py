"""Copy generated tables from results/ into README.md.

Every block between ``<!-- BEGIN results/NAME.md -->`` and ``<!-- END results/NAME.md -->`` is
replaced with the current content of that file (its first heading dropped), so README numbers
always come from the scripts that measured them:

    .venv/bin/python scripts/update_readme.py
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- BEGIN (?P<file>[^ ]+) -->\n)(?P<body>.*?)(<!-- END (?P=file) -->)", re.S)


def body_of(path):
    lines = (ROOT / path).read_text().strip().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    # Sub-headings of a result file sit two levels deeper in the README.
    lines = ["##" + line if line.startswith("#") else line for line in lines]
    return "\n".join(lines).strip() + "\n"


def main():
    readme = ROOT / "README.md"
    text = readme.read_text()
    missing = [m["file"] for m in BLOCK.finditer(text) if not (ROOT / m["file"]).exists()]
    if missing:
        sys.exit(f"missing result files: {', '.join(missing)} (run their scripts first)")
    new = BLOCK.sub(lambda m: m[1] + body_of(m["file"]) + m[4], text)
    readme.write_text(new)
    print(f"README.md: {len(BLOCK.findall(text))} generated blocks refreshed")


if __name__ == "__main__":
    main()
