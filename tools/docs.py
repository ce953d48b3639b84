#!/usr/bin/env python
"""Offline docs and README for ski_tnn.

    python tools/docs.py render   # _proc/ (from nbdev-proc-nbs) -> _docs/ with smalldocs, pages named as nbdev names them
    python tools/docs.py check    # _docs/index.html and one page per notebook exist and show no error output
    python tools/docs.py readme [--check]  # README.md from _proc/index.ipynb (--check: fail if README.md is stale)

`nbdev-docs` renders the site with Quarto where Quarto is installed; Quarto's installer needs the network, so on machines
without it `make docs` runs `nbdev-proc-nbs` (all of nbdev's processing) and then this script, which renders the processed
notebooks with the pure-Python `smalldocs` renderer.
"""
from __future__ import annotations
import json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROC, DOCS, NBS = ROOT / '_proc', ROOT / '_docs', ROOT / 'nbs'
ERROR_MARKS = ('Traceback (most recent call last)', 'cell-output-error', 'Error in ', 'ModuleNotFoundError')


def die(msg: str) -> None:
    print(f"docs: {msg}", file=sys.stderr); sys.exit(1)


def frontmatter(nb: dict) -> dict:
    "The YAML frontmatter nbdev puts in the first raw cell of a processed notebook (flat `key: value` pairs)."
    cells = nb.get('cells', [])
    if not cells or cells[0]['cell_type'] != 'raw': return {}
    src = ''.join(cells[0]['source'])
    m = re.match(r'\s*---\n(.*?)\n---', src, re.S)
    if not m: return {}
    out, key = {}, None
    for line in m.group(1).split('\n'):
        if re.match(r'^\w[\w-]*:', line):
            key, _, val = line.partition(':'); key = key.strip(); out[key] = val.strip()
        elif key and line.startswith(' '): out[key] += ' ' + line.strip()
    return out


def notebooks(folder: Path) -> list[Path]:
    "The notebooks of the site: every `.ipynb` not in a folder or file starting with `_` or `.`."
    return sorted(p for p in folder.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(folder).parts))


def page_name(nb_path: Path) -> str:
    "The html page nbdev gives a notebook: its `output-file`, else the name without its numeric prefix."
    fm = frontmatter(json.loads(nb_path.read_text()))
    return fm.get('output-file') or re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb_path.stem) + '.html'


def render() -> None:
    if not (PROC / '_quarto.yml').exists(): die("_proc/_quarto.yml missing: run nbdev-proc-nbs first")
    site = Path(tempfile.mkdtemp(prefix='ski_tnn_site_'))
    try:
        shutil.copytree(PROC, site, dirs_exist_ok=True)
        renames = {}
        for nb in notebooks(site):  # smalldocs names pages after files; nbdev names them by `output-file`
            target = nb.with_name(Path(page_name(nb)).stem + '.ipynb')
            if target != nb: nb.rename(target); renames[nb.relative_to(site).as_posix()] = target.relative_to(site).as_posix()
            d = json.loads(target.read_text())   # the page now has its nbdev name; smalldocs does not read `output-file`
            if d['cells'] and d['cells'][0]['cell_type'] == 'raw':
                d['cells'][0]['source'] = [l for l in ''.join(d['cells'][0]['source']).splitlines(True) if not l.startswith('output-file:')]
                target.write_text(json.dumps(d))
        sidebar = site / 'sidebar.yml'
        if sidebar.exists():
            text = sidebar.read_text()
            for old, new in renames.items(): text = re.sub(rf'(?<![\w/.-]){re.escape(old)}\b', new, text)
            sidebar.write_text(text)
        yml = site / 'nbdev.yml'
        yml.write_text(re.sub(r'output-dir:.*', f'output-dir: {DOCS}', yml.read_text()))
        if DOCS.exists(): shutil.rmtree(DOCS)
        r = subprocess.run([shutil.which('smalldocs') or 'smalldocs', 'render', '--quiet', str(site)], text=True, capture_output=True)
        sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)
        if r.returncode: die(f"smalldocs render failed with exit code {r.returncode}")
        broken = [l for l in (r.stdout + r.stderr).splitlines() if 'broken link' in l]
        if broken: die("broken links:\n" + '\n'.join(broken))
    finally: shutil.rmtree(site, ignore_errors=True)
    print(f"docs: rendered {len(list(DOCS.glob('*.html')))} pages into {DOCS.relative_to(ROOT)}/")


def check() -> None:
    if not (DOCS / 'index.html').exists(): die(f"{DOCS.relative_to(ROOT)}/index.html missing: run `make docs`")
    nbs = notebooks(NBS)
    if not nbs: die("no notebooks found in nbs/")
    problems = []
    for nb in nbs:
        page = DOCS / nb.relative_to(NBS).parent / page_name(nb)
        if not page.exists(): problems.append(f"{nb.relative_to(ROOT)}: page {page.relative_to(ROOT)} missing"); continue
        html = page.read_text(errors='replace')
        hits = [m for m in ERROR_MARKS if m in html]
        if hits: problems.append(f"{page.relative_to(ROOT)}: error output ({', '.join(hits)})")
    if problems: die("docs check failed:\n  " + '\n  '.join(problems))
    print(f"docs: {len(nbs)} notebooks, {len(nbs)} pages in {DOCS.relative_to(ROOT)}/, no error output")


def readme_text() -> str:
    "README.md from the processed index notebook: title, description, markdown, code with its text outputs."
    src = PROC / 'index.ipynb'
    if not src.exists(): die("_proc/index.ipynb missing: run nbdev-proc-nbs first")
    nb = json.loads(src.read_text())
    fm = frontmatter(nb)
    parts = [f"# {fm.get('title', 'ski_tnn')}\n", f"> {fm['description']}\n"] if fm.get('description') else [f"# {fm.get('title', 'ski_tnn')}\n"]
    parts.append("<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n")
    for c in nb['cells'][1:]:
        s = ''.join(c['source']).strip()
        if c['cell_type'] == 'markdown' and s and not s.startswith('<!-- WARNING'): parts.append(s + '\n')
        elif c['cell_type'] == 'code' and s:
            if '#| echo: false' not in s: parts.append(f"```python\n{s}\n```\n")
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if 'text/markdown' in data: parts.append(''.join(data['text/markdown']).rstrip() + '\n'); continue
                text = ''.join(o.get('text', '')) or ''.join(data.get('text/plain', ''))
                if text.strip(): parts.append(f"```\n{text.rstrip()}\n```\n")
    return '\n'.join(parts)


def readme(check_only: bool) -> None:
    text, path = readme_text(), ROOT / 'README.md'
    if check_only:
        if not path.exists() or path.read_text() != text: die("README.md is stale: run `make readme` and commit it")
        print("docs: README.md is up to date with nbs/index.ipynb"); return
    tmp = path.with_suffix('.md.tmp'); tmp.write_text(text); os.replace(tmp, path)
    print("docs: wrote README.md")


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'render': render()
    elif cmd == 'check': check()
    elif cmd == 'readme': readme('--check' in sys.argv[2:])
    else: die(f"unknown command {cmd!r}; expected render, check or readme [--check]")
