#!/usr/bin/env python
"""Offline docs and README for ski_tnn.

    python tools/docs.py render   # _proc/ (from nbdev-proc-nbs) -> _docs/ with smalldocs, pages named as nbdev names them,
                                  # formulas converted to MathML, search usable from pages opened from disk
    python tools/docs.py check    # _docs/index.html and one page per notebook exist, show no error output and no raw TeX
    python tools/docs.py readme [--check]  # README.md from _proc/index.ipynb (--check: fail if README.md is stale)

`nbdev-docs` renders the site with Quarto where Quarto is installed; Quarto's installer needs the network, so on machines
without it `make docs` runs `nbdev-proc-nbs` (all of nbdev's processing) and then this script, which renders the processed
notebooks with the pure-Python `smalldocs` renderer.

Formulas: smalldocs writes maths as TeX between `\\(...\\)` and `\\[...\\]` for KaTeX to typeset in the browser, and
loads KaTeX from a CDN, so a page read offline shows raw TeX. `render` converts every formula to MathML at build time
with `latex2mathml` (browsers render MathML natively), drops the KaTeX tags, and fails on a formula it cannot convert,
naming the page and the formula. `check` fails when TeX is left in the visible text of a page (code blocks aside).

Reading the site: open `_docs/index.html` in a browser. Browsers refuse `fetch()` of `file://` URLs, which smalldocs'
search uses to load `search.json`, so `render` also writes the index as `search-index.js` and gives each page a few
lines that load it through a script tag when the page comes from disk. To serve the site instead:

    python -m http.server -d _docs 8000   # then open http://localhost:8000
"""
from __future__ import annotations
import html, json, os, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROC, DOCS, NBS = ROOT / '_proc', ROOT / '_docs', ROOT / 'nbs'
ERROR_MARKS = ('Traceback (most recent call last)', 'cell-output-error', 'Error in ', 'ModuleNotFoundError')
SERVE_NOTE = "docs: open _docs/index.html in a browser (search works from disk too), or serve: python -m http.server -d _docs 8000"


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
        text = re.sub(r'output-dir:.*', f'output-dir: {DOCS}', yml.read_text())
        # the package has no hosted site or public repository yet: nbdev writes `site-url: "/"` and `repo-url: ""`
        text = re.sub(r'\n *(site-url: "/?"|repo-url: "")', '', text)
        yml.write_text(text)
        if DOCS.exists(): shutil.rmtree(DOCS)
        r = subprocess.run([shutil.which('smalldocs') or 'smalldocs', 'render', '--quiet', str(site)], text=True, capture_output=True)
        sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)
        if r.returncode: die(f"smalldocs render failed with exit code {r.returncode}")
        broken = [l for l in (r.stdout + r.stderr).splitlines() if 'broken link' in l]
        if broken: die("broken links:\n" + '\n'.join(broken))
    finally: shutil.rmtree(site, ignore_errors=True)
    n = to_mathml()
    offline_search()
    print(f"docs: rendered {len(pages())} pages into {DOCS.relative_to(ROOT)}/, {n} formulas as MathML")


def pages() -> list[Path]: return sorted(p for p in DOCS.rglob('*.html') if 'site_libs' not in p.parts)


# smalldocs' maths: `<span class="math inline">\(TeX\)</span>` and `<span class="math display">\[TeX\]</span>`, TeX html-escaped
MATH = re.compile(r'<span class="math (inline|display)">\\[(\[](.*?)\\[)\]]</span>', re.S)
KATEX_TAGS = re.compile(r'<link[^>]*katex[^>]*>|<script[^>]*katex[^>]*></script>')


def tex2mathml(tex: str, display: bool) -> str:
    "MathML for `tex`; raises ValueError when latex2mathml fails or passes a command through unconverted (`<mi>\\foo</mi>`)."
    from latex2mathml.converter import convert
    try: out = convert(tex, display='block' if display else 'inline')
    except Exception as e: raise ValueError(f"{type(e).__name__}: {e}") from e
    if '\\' in out or '<merror' in out: raise ValueError("unknown command left in the MathML")
    return out


def to_mathml() -> int:
    "Convert every formula in `_docs/` to MathML and drop the KaTeX tags; fail naming page and formula on one it cannot convert."
    n, bad = 0, []
    for page in pages():
        text = page.read_text()
        def sub(m):
            nonlocal n
            tex = html.unescape(m.group(2))
            try: out = tex2mathml(tex, m.group(1) == 'display')
            except ValueError as e: bad.append(f"{page.relative_to(ROOT)}: {tex}   ({e})"); return m.group(0)
            n += 1
            return f'<span class="math {m.group(1)}">{out}</span>'
        new = KATEX_TAGS.sub('', MATH.sub(sub, text))
        if new != text: page.write_text(new)
    if bad: die("latex2mathml cannot convert these formulas:\n  " + '\n  '.join(bad))
    return n


# smalldocs' search fetches `search.json`; from file:// that fails, so on file:// pages load it as a script instead
SEARCH_SHIM = ('<script>/* search from file://: fetch() of files is refused, a script tag is not */'
    'if(location.protocol==="file:"){const f=window.fetch;window.fetch=(u,o)=>{const s=String(u);'
    'if(!s.endsWith("search.json"))return f(u,o);return new Promise((ok,no)=>{const t=document.createElement("script");'
    't.src=s.replace(/search\\.json$/,"search-index.js");t.onload=()=>ok(new Response(JSON.stringify(window.smalldocsSearchIndex)));'
    't.onerror=no;document.head.append(t);});};}</script>')


def offline_search() -> None:
    "Write `search-index.js` beside `search.json` and put the file:// shim before smalldocs' scripts on every page."
    index = DOCS / 'search.json'
    if not index.exists(): return
    (DOCS / 'search-index.js').write_text('window.smalldocsSearchIndex = ' + index.read_text().strip() + ';\n')
    for page in pages():
        text = page.read_text()
        if SEARCH_SHIM in text or '<script' not in text: continue
        i = text.index('<script')
        page.write_text(text[:i] + SEARCH_SHIM + text[i:])


class VisibleText(HTMLParser):
    "The text a reader sees: the <title> and the <body>, without scripts, styles, code, preformatted text or MathML."
    SKIP = {'script', 'style', 'code', 'pre', 'math', 'head', 'svg', 'textarea'}
    VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
    def __init__(self):
        super().__init__(convert_charrefs=True); self.stack, self.parts = [], []
    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID: self.stack.append(tag)
    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag: pass
    def handle_data(self, data):
        inside = set(self.stack)
        if 'title' in inside and 'svg' not in inside or not inside & self.SKIP: self.parts.append(data)
    @classmethod
    def of(cls, text: str) -> str:
        p = cls(); p.feed(text); p.close(); return ' '.join(p.parts)


# TeX a reader should never see: delimiters, common commands, and `$...$` spans (Pandoc's rule: no space inside the
# dollars, no digit right after the closing one, so "$5 and $10" is not maths)
RAW_TEX = re.compile(r'\\[(\[]|\\(frac|top|mathbb|mathrm|mathcal|sum|sqrt|cdot|left|right|begin|end|alpha|beta|gamma|lambda|'
                     r'sigma|epsilon|odot|otimes|qquad|quad|approx|le|ge|in|times)\b|\$\$|\$[^$\s](?:[^$\n]*?[^$\s\\])?\$(?!\d)')


def raw_tex(page: Path) -> list[str]:
    "The raw TeX left in the visible text of `page`, with a little context."
    text = VisibleText.of(page.read_text(errors='replace'))
    return [text[max(0, m.start() - 30):m.end() + 30].replace('\n', ' ') for m in RAW_TEX.finditer(text)]


def check() -> None:
    if not (DOCS / 'index.html').exists(): die(f"{DOCS.relative_to(ROOT)}/index.html missing: run `make docs`")
    nbs = notebooks(NBS)
    if not nbs: die("no notebooks found in nbs/")
    problems = []
    for nb in nbs:
        page = DOCS / nb.relative_to(NBS).parent / page_name(nb)
        if not page.exists(): problems.append(f"{nb.relative_to(ROOT)}: page {page.relative_to(ROOT)} missing"); continue
        text = page.read_text(errors='replace')
        hits = [m for m in ERROR_MARKS if m in text]
        if hits: problems.append(f"{page.relative_to(ROOT)}: error output ({', '.join(hits)})")
    for page in pages():
        problems += [f"{page.relative_to(ROOT)}: raw TeX in the text: ...{t}..." for t in raw_tex(page)]
    if problems: die("docs check failed:\n  " + '\n  '.join(problems))
    print(f"docs: {len(nbs)} notebooks, {len(nbs)} pages in {DOCS.relative_to(ROOT)}/, no error output, no raw TeX")
    print(SERVE_NOTE)


def readme_text() -> tuple[str, dict[str, bytes]]:
    """README.md from the processed index notebook (title, description, markdown, code with its text outputs), and the figures
    it shows: each PNG output of a code cell becomes `nbs/results/readme-<cell id>.png`, linked from the README."""
    import base64
    src = PROC / 'index.ipynb'
    if not src.exists(): die("_proc/index.ipynb missing: run nbdev-proc-nbs first")
    nb = json.loads(src.read_text())
    fm = frontmatter(nb)
    parts = [f"# {fm.get('title', 'ski_tnn')}\n", f"> {fm['description']}\n"] if fm.get('description') else [f"# {fm.get('title', 'ski_tnn')}\n"]
    parts.append("<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n")
    figures = {}
    for c in nb['cells'][1:]:
        s = ''.join(c['source']).strip()
        if c['cell_type'] == 'markdown' and s and not s.startswith('<!-- WARNING'): parts.append(s + '\n')
        elif c['cell_type'] == 'code' and s:
            if '#| echo: false' not in s: parts.append(f"```python\n{s}\n```\n")
            outputs, merged = c.get('outputs', []), []
            for o in outputs:                               # consecutive prints read as one block
                if merged and o.get('output_type') == 'stream' == merged[-1].get('output_type'):
                    merged[-1] = {**merged[-1], 'text': ''.join(merged[-1]['text']) + ''.join(o['text'])}
                else: merged.append(o)
            for o in merged:
                data = o.get('data', {})
                if 'text/markdown' in data: parts.append(''.join(data['text/markdown']).rstrip() + '\n'); continue
                if 'image/png' in data:
                    name = f"nbs/results/readme-{c.get('id', len(figures))}.png"
                    figures[name] = base64.b64decode(''.join(data['image/png']))
                    parts.append(f"![figure]({name})\n"); continue
                text = ''.join(o.get('text', '')) or ''.join(data.get('text/plain', ''))
                if text.strip(): parts.append(f"```\n{text.rstrip()}\n```\n")
    return link_notebooks('\n'.join(parts)), figures


def link_notebooks(md: str) -> str:
    "Point the site's page links (`](ski.html)`) at the notebooks they come from, which exist in the repository."
    where = {(nb.relative_to(NBS).parent / page_name(nb)).as_posix(): nb.relative_to(ROOT).as_posix() for nb in notebooks(NBS)}
    def sub(m):
        if m.group(1) not in where: die(f"README links to {m.group(1)}, which no notebook renders")
        return f"]({where[m.group(1)]}{m.group(2) or ''})"
    return re.sub(r'\]\(([\w./-]+\.html)(#[\w-]+)?\)', sub, md)


def readme(check_only: bool) -> None:
    (text, figures), path = readme_text(), ROOT / 'README.md'
    stale = [f for f, b in figures.items() if not (ROOT / f).exists() or (ROOT / f).read_bytes() != b]
    old = sorted(p.relative_to(ROOT).as_posix() for p in (NBS / 'results').glob('readme-*.png'))
    extra = [f for f in old if f not in figures]
    if check_only:
        if not path.exists() or path.read_text() != text or stale or extra:
            die("README.md or its figures (nbs/results/readme-*.png) are stale: run `make readme` and commit them")
        print("docs: README.md is up to date with nbs/index.ipynb"); return
    for f in stale:
        tmp = ROOT / (f + '.tmp'); tmp.write_bytes(figures[f]); os.replace(tmp, ROOT / f)
    for f in extra: (ROOT / f).unlink()
    tmp = path.with_suffix('.md.tmp'); tmp.write_text(text); os.replace(tmp, path)
    print(f"docs: wrote README.md ({len(figures)} figures)")


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'render': render()
    elif cmd == 'check': check()
    elif cmd == 'readme': readme('--check' in sys.argv[2:])
    else: die(f"unknown command {cmd!r}; expected render, check or readme [--check]")
