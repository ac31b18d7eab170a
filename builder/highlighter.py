"""A small Python syntax highlighter for the generated-code view."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


def _fmt(colour: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(colour))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


SCHEMES = {
    "light": {"keyword": _fmt("#a626a4", bold=True), "builtin": _fmt("#0184bc"),
              "string": _fmt("#50a14f"), "comment": _fmt("#8a8f98", italic=True),
              "number": _fmt("#986801"), "def": _fmt("#4078f2", bold=True),
              "self": _fmt("#e45649")},
    "dark": {"keyword": _fmt("#c678dd", bold=True), "builtin": _fmt("#56b6c2"),
             "string": _fmt("#98c379"), "comment": _fmt("#7f848e", italic=True),
             "number": _fmt("#d19a66"), "def": _fmt("#61afef", bold=True),
             "self": _fmt("#e06c75")},
}

_RULES = [
    ("keyword", re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b")),
    ("builtin", re.compile(r"\b(torch|nn|F|super|range|len|tuple|int|float)\b")),
    ("self", re.compile(r"\bself\b")),
    ("number", re.compile(r"\b\d+(\.\d*)?([eE][-+]?\d+)?\b")),
    ("def", re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+")),
    ("string", re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")),
    ("comment", re.compile(r"#[^\n]*")),
]
_TRIPLE = re.compile(r'"""|\'\'\'')


class PythonHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, kind: str = "light") -> None:
        super().__init__(document)
        self.scheme = SCHEMES.get(kind, SCHEMES["light"])

    def set_kind(self, kind: str) -> None:
        self.scheme = SCHEMES.get(kind, SCHEMES["light"])
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        for name, pattern in _RULES:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), self.scheme[name])
        # docstrings spanning lines: state 1 = inside a triple-quoted string
        start = 0
        inside = self.previousBlockState() == 1
        string_fmt = self.scheme["string"]
        while True:
            m = _TRIPLE.search(text, start)
            if inside:
                end = m.end() if m else len(text)
                self.setFormat(start, end - start, string_fmt)
                if m is None:
                    self.setCurrentBlockState(1)
                    return
                inside, start = False, end
            else:
                if m is None:
                    self.setCurrentBlockState(0)
                    return
                inside, start = True, m.start()
