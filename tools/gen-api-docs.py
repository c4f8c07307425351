#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen-api-docs.py: the C API reference (docs/api/) generated from the
comments of the public headers (include/tmsfield/*.h).  Python standard
library only.

    tools/gen-api-docs.py                 write docs/api/
    tools/gen-api-docs.py --check         compare docs/api/ with a fresh
                                          generation; exit 1 with a diff when
                                          they differ (the test "api-docs")
    tools/gen-api-docs.py --out DIR       write elsewhere

What it reads (the header conventions of the project):
  * the header's opening comment (after the SPDX line and "name.h:") is the
    page's introduction;
  * a comment directly above a declaration (no blank line between) documents
    it; declarations that follow one another without a blank line or comment
    form one entry (a getter with its setter);
  * "/**< ... */" after a member documents the member (shown in the code);
  * a comment followed by a blank line is prose of the page; a one-line
    comment between two comment lines of dashes is a section heading;
  * declarations: functions (TMSF_EXPORT), typedefs, structs, enums, #define
    and #if blocks.  The umbrella header tmsfield.h gives the page order.
"""
import argparse
import difflib
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ----------------------------------------------------------------------------
# Reading a header into chunks
# ----------------------------------------------------------------------------


class Chunk:
    def __init__(self, kind, text, doc=False):
        self.kind = kind  # 'comment', 'blank', 'pp', 'stmt'
        self.text = text
        self.doc = doc


def strip_comments_and_strings(s):
    s = re.sub(r'/\*.*?\*/', ' ', s, flags=re.S)
    s = re.sub(r'"(\\.|[^"\\])*"', '""', s)
    s = re.sub(r"'(\\.|[^'\\])*'", "''", s)
    return s


def read_chunks(text):
    lines = text.split('\n')
    chunks = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        if not s:
            chunks.append(Chunk('blank', ''))
            i += 1
        elif s.startswith('/*'):
            buf = [line]
            while '*/' not in buf[-1] and i + 1 < n:
                i += 1
                buf.append(lines[i])
            i += 1
            body = '\n'.join(buf)
            end = body.index('*/') + 2
            rest = body[end:].strip()
            chunks.append(Chunk('comment', body[:end], doc=s.startswith('/**') and not s.startswith('/**<')))
            if rest:  # code after the comment on its line
                lines.insert(i, rest)
                n += 1
        elif s.startswith('#'):
            buf = [line]
            while buf[-1].rstrip().endswith('\\') and i + 1 < n:
                i += 1
                buf.append(lines[i])
            i += 1
            m = re.match(r'#\s*(if|ifdef|ifndef)\b', s)
            if m:  # a conditional block: up to its #endif
                depth = 1
                while i < n and depth:
                    t = lines[i].strip()
                    if re.match(r'#\s*(if|ifdef|ifndef)\b', t):
                        depth += 1
                    elif re.match(r'#\s*endif\b', t):
                        depth -= 1
                    buf.append(lines[i])
                    i += 1
            chunks.append(Chunk('pp', '\n'.join(buf)))
        elif s == '}' or s.startswith('extern "C"'):
            i += 1
        else:
            buf = []
            depth = 0
            while i < n:
                buf.append(lines[i])
                code = strip_comments_and_strings(lines[i])
                depth += code.count('{') + code.count('(') - code.count('}') - code.count(')')
                i += 1
                if depth <= 0 and code.rstrip().endswith(';'):
                    break
            chunks.append(Chunk('stmt', '\n'.join(buf)))
    return chunks


def comment_text(c):
    """The text of a block comment, without the markers, dedented."""
    body = c.strip()
    body = re.sub(r'^/\*\*?<?', '', body)
    body = re.sub(r'\*/$', '', body)
    out = []
    for line in body.split('\n'):
        line = line.rstrip()
        m = re.match(r'^\s*\* ?(.*)$', line)
        out.append(m.group(1) if m else line.strip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    if out:  # the first line followed "/**" directly: dedent the others only
        rest = [l for l in out[1:] if l.strip()]
        ind = min((len(l) - len(l.lstrip()) for l in rest), default=0)
        out = [out[0].strip()] + [l[ind:] if l.strip() else '' for l in out[1:]]
    return '\n'.join(out)


# ----------------------------------------------------------------------------
# Declarations
# ----------------------------------------------------------------------------


def decl_name(kind, text):
    code = strip_comments_and_strings(text)
    if kind == 'pp':
        m = re.search(r'#\s*define\s+(\w+)', code)
        return m.group(1) if m else None
    m = re.search(r'\(\s*\*\s*(\w+)\s*\)\s*\(', code)  # function pointer typedef
    if m and code.lstrip().startswith('typedef'):
        return m.group(1)
    flat = re.sub(r'\{.*\}', '{}', code, flags=re.S)
    if flat.lstrip().startswith('typedef') or re.match(r'\s*(struct|enum|union)\b', flat):
        m = re.search(r'(\w+)\s*(\[[^\]]*\])?\s*;\s*$', flat.strip())
        return m.group(1) if m else None
    m = re.search(r'(\w+)\s*\(', flat)
    return m.group(1) if m else None


def decl_kind(kind, text):
    if kind == 'pp':
        return 'macro'
    code = strip_comments_and_strings(text).strip()
    if code.startswith('typedef') or re.match(r'(struct|enum|union)\b', code):
        return 'type'
    return 'function'


def format_decl(kind, text):
    if kind == 'function':
        flat = ' '.join(strip_comments_and_strings(text).replace('TMSF_EXPORT', '').split())
        if len(flat) <= 96:
            return flat
        # break after the commas of the parameter list, aligned under its "("
        p = flat.index('(')
        parts = [x.strip() for x in flat[p + 1:].split(',')]
        out, line = [], flat[:p + 1]
        for k, part in enumerate(parts):
            piece = part + (',' if k < len(parts) - 1 else '')
            if len(line) + len(piece) + 1 > 96 and line.strip() and not line.endswith('('):
                out.append(line.rstrip())
                line = ' ' * (p + 1)
            line += piece + ' '
        out.append(line.rstrip())
        return '\n'.join(out)
    lines = text.split('\n')
    ind = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    return '\n'.join(l[ind:].rstrip() for l in lines)


# ----------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------

IDENT = re.compile(r'\b(tmsf_\w+|TMSF_\w+)\b')


def escape(s):
    s = s.replace('\\', '\\\\').replace('*', '\\*').replace('<', '&lt;').replace('>', '&gt;')
    s = s.replace('_', '\\_') if re.search(r'(^|\W)_|_(\W|$)', s) else s
    return s


def prose_line(line, symbols, page):
    """A line of prose: known API names become links, the rest is escaped."""
    out, pos = [], 0
    for m in IDENT.finditer(line):
        out.append(escape(line[pos:m.start()]))
        name = m.group(1)
        if name in symbols:
            target, anchor = symbols[name]
            href = ('' if target == page else target) + '#' + anchor.lower()
            out.append('[`%s`](%s)' % (name, href))
        else:
            out.append('`%s`' % name)
        pos = m.end()
    out.append(escape(line[pos:]))
    s = ''.join(out)
    if re.match(r'^\s*#', s):
        s = s.replace('#', '\\#', 1)
    return s


def prose(text, symbols, page):
    """Comment text to markdown: "- " items become a list (indented lines
    continue them), other indented runs become code blocks."""
    lines = text.split('\n')
    out, code = [], []
    in_item = False

    def flush():
        if code:
            while code and not code[-1].strip():
                code.pop()
            ind = min(len(l) - len(l.lstrip()) for l in code if l.strip())
            out.append('```')
            out.extend(l[ind:] for l in code)
            out.append('```')
            code.clear()

    for k, line in enumerate(lines):
        st = line.strip()
        if re.match(r'[-*] ', st) and not code:
            if not in_item and out and out[-1].strip():
                out.append('')
            out.append('- ' + prose_line(st[2:], symbols, page))
            in_item = True
        elif in_item and st and line.startswith(' '):
            out.append('  ' + prose_line(st, symbols, page))
        elif line.startswith('  ') and st:
            in_item = False
            if not code and out and out[-1].strip():
                out.append('')
            code.append(line)
        elif code and not st and k + 1 < len(lines) and lines[k + 1].startswith('  '):
            code.append('')
        else:
            in_item = False if not st or not line.startswith(' ') else in_item
            if code:
                flush()
                if st:
                    out.append('')
            out.append(prose_line(line, symbols, page) if st else '')
    flush()
    return '\n'.join(out).strip('\n')


# ----------------------------------------------------------------------------
# A header as items
# ----------------------------------------------------------------------------


class Header:
    def __init__(self, path):
        self.name = os.path.basename(path)
        self.page = self.name[:-2] + '.md'
        with open(path, encoding='utf-8') as f:
            text = f.read()
        self.intro = ''
        self.guard = None
        self.items = []  # ('section', title) | ('prose', text) | ('decl', names, kinds, codes, doc)
        chunks = read_chunks(text)
        guard = None
        first = True
        for k, c in enumerate(chunks):
            if c.kind == 'comment' and first:
                first = False
                t = comment_text(c.text)
                t = '\n'.join(l for l in t.split('\n') if not l.startswith('SPDX-License-Identifier'))
                t = re.sub(r'^\s*tmsfield\s+—[^\n]*\n', '', t)
                t = re.sub(r'^\s*' + re.escape(self.name) + r':\s*', '', t.strip())
                t = t.strip()
                self.intro = t[:1].upper() + t[1:]
                continue
            first = False
            if c.kind == 'pp':
                s = c.text.strip()
                m = re.match(r'#\s*ifndef\s+(\w+_H)\b', s)
                if m and guard is None:  # the include guard wraps the whole header: read inside
                    guard = self.guard = m.group(1)
                    inner = '\n'.join(c.text.split('\n')[1:])
                    inner = re.sub(r'#\s*endif[^\n]*\s*$', '', inner.rstrip())
                    self._read(read_chunks(inner))
                    break
        else:
            self._read(chunks)

    def _read(self, chunks):
        pending = None  # (text, is_doc)
        last_decl = None
        prev_blank = True
        dashes = lambda c: c.kind == 'comment' and re.fullmatch(r'/\*\s*-+\s*\*/', c.text.strip())
        k = 0
        while k < len(chunks):
            c = chunks[k]
            if c.kind == 'blank':
                if pending is not None:
                    self.items.append(('prose', pending))
                    pending = None
                last_decl = None
                prev_blank = True
                k += 1
                continue
            if dashes(c):
                if k + 2 < len(chunks) and chunks[k + 1].kind == 'comment' and dashes(chunks[k + 2]):
                    self.items.append(('section', comment_text(chunks[k + 1].text).strip()))
                    k += 3
                else:
                    k += 1
                continue
            if c.kind == 'comment':
                if pending is not None:
                    self.items.append(('prose', pending))
                pending = comment_text(c.text)
                last_decl = None
                k += 1
                continue
            text = c.text
            s = text.strip()
            if c.kind == 'pp' and (s.startswith('#include') or s.startswith('#undef')
                                   or re.match(r'#\s*ifdef\s+__cplusplus', s)
                                   or re.match(r'#\s*(endif|pragma)', s)):
                k += 1
                continue
            name = decl_name(c.kind, text)
            kind = decl_kind(c.kind, text)
            code = format_decl(kind, text)
            if name is None or name == self.guard:
                k += 1
                continue
            if pending is None and last_decl is not None and not prev_blank:
                last_decl[1].append(name)
                last_decl[2].append(kind)
                last_decl[3].append(code)
            else:
                item = ['decl', [name], [kind], [code], pending or '']
                self.items.append(item)
                last_decl = item
            pending = None
            prev_blank = False
            k += 1
        if pending is not None:
            self.items.append(('prose', pending))

    def symbols(self):
        for it in self.items:
            if it[0] == 'decl':
                yield from it[1]


def summary(intro):
    s = ' '.join(intro.split('\n\n')[0].split())
    m = re.match(r'(.+?[.;])(\s+[A-Z(]|$)', s)
    s = m.group(1) if m else s
    return s.rstrip(';.')


def render_header(h, symbols):
    out = ['<!-- Generated by tools/gen-api-docs.py from include/tmsfield/%s: do not edit. -->' % h.name, '',
           '# `tmsfield/%s`' % h.name, '']
    if h.intro:
        out += [prose(h.intro, symbols, h.page), '']
    out += ['`#include <tmsfield/tmsfield.h>` (or `<tmsfield/%s>`)  ·  [API index](README.md)' % h.name, '']
    for it in h.items:
        if it[0] == 'section':
            out += ['## ' + escape(it[1]), '']
        elif it[0] == 'prose':
            out += [prose(it[1], symbols, h.page), '']
        else:
            _, names, kinds, codes, doc = it
            for nm in names:
                out.append('<a id="%s"></a>' % nm.lower())
            out += ['### ' + ', '.join('`%s`' % nm for nm in names), '', '```c']
            out += codes
            out += ['```', '']
            if doc:
                out += [prose(doc, symbols, h.page), '']
    return '\n'.join(out).rstrip('\n') + '\n'


def first_sentence(doc):
    s = ' '.join(doc.split())
    m = re.match(r'(.+?[.:])(\s+[A-Z(]|$)', s)
    return m.group(1) if m else s


def render_index(headers, symbols, kinds, docs, links):
    out = ['<!-- Generated by tools/gen-api-docs.py from include/tmsfield/*.h: do not edit. -->', '',
           '# C API reference', '',
           'Generated from the comments of the public headers (`include/tmsfield/*.h`) by',
           '`tools/gen-api-docs.py`; the test `api-docs` fails when this reference is out of date',
           '(regenerate with `python3 tools/gen-api-docs.py`).  Include the umbrella header',
           '`<tmsfield/tmsfield.h>` and link with `pkg-config --cflags --libs tmsfield`.  Conventions',
           '(status codes, SI units in parameter names, ownership, threads) are in',
           '[`common.h`](common.md); the command line in [../cli.md](../cli.md).', '',
           '## Headers', '', '| header | what |', '|---|---|']
    for h in headers:
        out.append('| [`%s`](%s) | %s |' % (h.name, h.page, prose_line(summary(h.intro), {}, '').replace('|', '\\|')))
    out += ['', '## Index', '']
    by_kind = {}
    for nm in sorted(symbols, key=lambda s: s.lower()):
        by_kind.setdefault(kinds[nm], []).append(nm)
    titles = {'function': 'Functions', 'type': 'Types', 'macro': 'Constants and macros'}
    for kind in ('function', 'type', 'macro'):
        names = by_kind.get(kind, [])
        if not names:
            continue
        out += ['### ' + titles[kind], '', '| name | header | what |', '|---|---|---|']
        for nm in names:
            what = prose_line(first_sentence(docs.get(nm, '')), links, 'README.md').replace('|', '\\|')
            out.append('| [`%s`](%s#%s) | %s | %s |' % (nm, symbols[nm], nm.lower(), symbols[nm][:-3] + '.h', what))
        out.append('')
    return '\n'.join(out).rstrip('\n') + '\n'


def generate(include_dir):
    names = sorted(f for f in os.listdir(include_dir) if f.endswith('.h') and f != 'tmsfield.h')
    order = []
    umbrella = os.path.join(include_dir, 'tmsfield.h')
    if os.path.exists(umbrella):
        with open(umbrella, encoding='utf-8') as f:
            order = [m for m in re.findall(r'#include\s*<tmsfield/([\w.-]+\.h)>', f.read()) if m in names]
    order += [n for n in names if n not in order]
    headers = [Header(os.path.join(include_dir, n)) for n in order]
    symbols, kinds = {}, {}
    for h in headers:
        for it in h.items:
            if it[0] == 'decl':
                for nm, kd in zip(it[1], it[2]):
                    symbols.setdefault(nm, h.page)
                    kinds.setdefault(nm, kd)
    # enumerators (and the status codes of TMSF_STATUS_LIST) link to their type
    links = dict((nm, (pg, nm)) for nm, pg in symbols.items())
    for h in headers:
        for it in h.items:
            if it[0] != 'decl':
                continue
            for nm, code in zip(it[1], it[3]):
                body = strip_comments_and_strings(code)
                consts = re.findall(r'X\((TMSF_\w+)\s*,', body) if nm == 'TMSF_STATUS_LIST' else \
                    re.findall(r'^\s*(TMSF_\w+)\s*(?:=|,|$)', body, flags=re.M) if 'enum' in body.split('{')[0] else []
                for c in consts:
                    links.setdefault(c, (h.page, nm))
    docs = {}
    for h in headers:
        for it in h.items:
            if it[0] == 'decl':
                for nm in it[1]:
                    docs.setdefault(nm, it[4])
    files = {'README.md': render_index(headers, symbols, kinds, docs, links)}
    for h in headers:
        files[h.page] = render_header(h, links)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--include', default=os.path.join(ROOT, 'include', 'tmsfield'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'docs', 'api'))
    ap.add_argument('--check', action='store_true', help='compare with --out instead of writing it')
    a = ap.parse_args()
    files = generate(a.include)
    if a.check:
        with tempfile.TemporaryDirectory() as tmp:  # regenerate into a temporary directory, then compare
            for name, text in files.items():
                with open(os.path.join(tmp, name), 'w', encoding='utf-8') as f:
                    f.write(text)
            have = sorted(f for f in os.listdir(a.out) if f.endswith('.md')) if os.path.isdir(a.out) else []
            bad = 0
            for name in sorted(set(have) | set(files)):
                new_path = os.path.join(tmp, name)
                old_path = os.path.join(a.out, name)
                new = open(new_path, encoding='utf-8').read().splitlines(True) if os.path.exists(new_path) else []
                old = open(old_path, encoding='utf-8').read().splitlines(True) if os.path.exists(old_path) else []
                if new != old:
                    bad += 1
                    sys.stdout.writelines(difflib.unified_diff(old, new, 'docs/api/' + name + ' (committed)',
                                                               'docs/api/' + name + ' (from the headers)'))
            if bad:
                print('api-docs: %d file(s) of %s differ from the headers; run: python3 tools/gen-api-docs.py'
                      % (bad, a.out))
                return 1
            print('api-docs: %s is up to date (%d files)' % (a.out, len(files)))
            return 0
    os.makedirs(a.out, exist_ok=True)
    for name in sorted(os.listdir(a.out)):
        if name.endswith('.md') and name not in files:
            os.remove(os.path.join(a.out, name))
    for name, text in files.items():
        with open(os.path.join(a.out, name), 'w', encoding='utf-8') as f:
            f.write(text)
    print('api-docs: wrote %d files to %s' % (len(files), a.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
