"""JUEL, the expression language of Camunda, Operaton, Flowable and Activiti files
(`${approved}`, `#{!x}`, `${a && b}`), translated to the sandbox's Python.

Only a safe subset is translated, the one that means the same in both: variables, property
access (`a.b` reads the key "b" of the case field `a`), string, number, true/false/null
literals, `!`/`not`, `&&`/`and`, `||`/`or`, `empty`, the comparisons in symbols or words
(`==`/`eq`, `!=`/`ne`, `<`/`lt`, `>`/`gt`, `<=`/`le`, `>=`/`ge`), arithmetic (`div`, `mod`),
`a ? b : c`, and `execution.getVariable('x')`. Anything else (a method call on a Java bean,
`instanceof`, a lambda) is refused with `JuelError`, whose message says how to write it.
"""

from __future__ import annotations

import keyword
import re

from .wording import Wording, wording

PYTHON = wording("a Python expression over the case data, e.g. approved == True and amount > 100")
_OPEN = re.compile(r"[$#]\{")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\].,?:+\-*/%])
    """,
    re.VERBOSE,
)
_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_RESERVED = {"and", "or", "not", "empty", "div", "mod", "instanceof", *_WORDS, *_LITERALS}


class JuelError(ValueError):
    """An expression outside the translated subset; the message says how to write it.
    `said` is the message as a Wording; str() of the error is its English."""

    def __init__(self, said: Wording) -> None:
        super().__init__(str(said))
        self.said = said


def is_juel(text: str | None) -> bool:
    """Whether a text holds a JUEL expression (`${…}` or `#{…}`)."""
    return bool(text and _OPEN.search(text))


def translate(text: str) -> str:
    """The Python of a text holding JUEL: a text that is one `${…}` is its expression; text
    around or between expressions makes a string (`"dept_" + str(x)`). Raises JuelError."""
    parts = _split(text)
    expressions = [p for kind, p in parts if kind == "expr"]
    literal = "".join(p for kind, p in parts if kind == "text")
    if len(expressions) == 1 and not literal.strip():
        return expression(expressions[0])
    pieces = [
        repr(part) if kind == "text" else f"str({expression(part)})" for kind, part in parts if part
    ]
    return " + ".join(pieces) or "''"


def expression(source: str) -> str:
    """The Python of the inside of one `${…}`; raises JuelError."""
    return _Parser(source).parse()


def _split(text: str) -> list[tuple[str, str]]:
    """The text as ("text", literal) and ("expr", JUEL inside the braces) parts."""
    parts: list[tuple[str, str]] = []
    position = 0
    for opening in _OPEN.finditer(text):
        if opening.start() < position:
            continue  # inside an expression already taken
        parts.append(("text", text[position : opening.start()]))
        end = _closing_brace(text, opening.end())
        if end is None:
            raise JuelError(
                wording(
                    "'%(expression)s': no closing '}'; JUEL is not supported here; "
                    "write it as %(advice)s",
                    expression=_short(text),
                    advice=PYTHON,
                )
            )
        parts.append(("expr", text[opening.end() : end]))
        position = end + 1
    parts.append(("text", text[position:]))
    return parts


def _closing_brace(text: str, start: int) -> int | None:
    quote = None
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "}":
            return i
        i += 1
    return None


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Parser:
    """Recursive descent over JUEL's grammar, writing Python with explicit parentheses."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(source):
            match = _TOKEN.match(source, position)
            if match is None:
                self._refuse(
                    wording(
                        "'%(character)s' is not JUEL this engine reads",
                        character=source[position],
                    )
                )
            assert match is not None and match.lastgroup is not None
            if match.lastgroup != "space":
                self.tokens.append((match.lastgroup, match.group()))
            position = match.end()
        self.at = 0

    def _refuse(self, why: Wording, advice: Wording = PYTHON) -> None:
        raise JuelError(
            wording(
                "'%(expression)s': %(why)s. JUEL is not supported here; write it as %(advice)s",
                expression=_short(self.source),
                why=why,
                advice=advice,
            )
        )

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def _take(self, *values: str) -> str | None:
        kind, value = self._peek()
        if kind in ("op", "name") and value in values:
            self.at += 1
            return value
        return None

    def _expect(self, value: str) -> None:
        if self._take(value) is None:
            found = self._peek()[1]
            if not found:
                self._refuse(wording("expected '%(expected)s', found 'the end'", expected=value))
            self._refuse(
                wording(
                    "expected '%(expected)s', found %(found)s", expected=value, found=repr(found)
                )
            )

    def parse(self) -> str:
        if not self.tokens:
            self._refuse(wording("the expression is empty"))
        result = self._ternary()
        if self._peek()[0] != "end":
            self._refuse(wording("unexpected %(token)s", token=repr(self._peek()[1])))
        return result

    def _ternary(self) -> str:
        condition = self._or()
        if self._take("?") is None:
            return condition
        if self._take(":") is not None:  # `a ?: b` is not JUEL; say so plainly
            self._refuse(
                wording("'?:' is not JUEL"), wording("a Python expression, e.g. a if a else b")
            )
        yes = self._ternary()
        self._expect(":")
        no = self._ternary()
        return f"({yes} if {condition} else {no})"

    def _or(self) -> str:
        left = self._and()
        while self._take("||", "or"):
            left = f"({left} or {self._and()})"
        return left

    def _and(self) -> str:
        left = self._equality()
        while self._take("&&", "and"):
            left = f"({left} and {self._equality()})"
        return left

    def _equality(self) -> str:
        left = self._relational()
        while (op := self._take("==", "!=", "eq", "ne")) is not None:
            left = f"({left} {_WORDS.get(op, op)} {self._relational()})"
        return left

    def _relational(self) -> str:
        left = self._additive()
        while (op := self._take("<", ">", "<=", ">=", "lt", "gt", "le", "ge")) is not None:
            left = f"({left} {_WORDS.get(op, op)} {self._additive()})"
        if self._take("instanceof"):
            self._refuse(wording("'instanceof' has no counterpart"))
        return left

    def _additive(self) -> str:
        left = self._multiplicative()
        while (op := self._take("+", "-")) is not None:
            left = f"({left} {op} {self._multiplicative()})"
        return left

    def _multiplicative(self) -> str:
        left = self._unary()
        while (op := self._take("*", "/", "%", "div", "mod")) is not None:
            python = {"div": "/", "mod": "%"}.get(op, op)
            left = f"({left} {python} {self._unary()})"
        return left

    def _unary(self) -> str:
        if self._take("!", "not"):
            return f"(not {self._unary()})"
        if self._take("-"):
            return f"(-{self._unary()})"
        if self._take("empty"):
            return f"({self._unary()} in (None, '', [], {{}}))"
        return self._value()

    def _value(self) -> str:
        value, name = self._primary()
        while True:
            if self._take("."):
                kind, member = self._peek()
                if kind != "name":
                    self._refuse(wording("a property name must follow '.'"))
                self.at += 1
                if self._peek() == ("op", "("):
                    self._refuse(_call(f"{name or value}.{member}"), _EXAMPLE_CALL)
                value, name = f"{value}[{member!r}]", None
            elif self._take("["):
                index = self._ternary()
                self._expect("]")
                value, name = f"{value}[{index}]", None
            elif self._peek() == ("op", "("):
                self._refuse(_call(name or value), _EXAMPLE_CALL)
            else:
                return value

    def _primary(self) -> tuple[str, str | None]:
        kind, value = self._peek()
        self.at += 1
        if kind == "string":
            return repr(re.sub(r"\\(.)", r"\1", value[1:-1])), None
        if kind == "number":
            return value, None
        if kind == "op" and value == "(":
            inner = self._ternary()
            self._expect(")")
            return f"({inner})", None
        if kind == "name" and value in _LITERALS:
            return _LITERALS[value], None
        if kind == "name" and value == "execution":
            return self._execution_variable(), None
        if kind == "name" and value not in _RESERVED:
            if "$" in value or value.startswith("_") or keyword.iskeyword(value):
                self._refuse(wording("'%(name)s' cannot be a variable name here", name=value))
            return value, value
        self.at -= 1
        self._refuse(
            wording("unexpected %(token)s", token=repr(value))
            if value
            else wording("the expression ends too soon")
        )
        raise AssertionError  # _refuse raised

    def _execution_variable(self) -> str:
        """`execution.getVariable('x')` reads the case field x; nothing else of the Java
        execution object exists here."""
        if self._take(".") and self._take("getVariable") and self._take("("):
            kind, value = self._peek()
            self.at += 1
            name = value[1:-1] if kind == "string" else ""
            if name.isidentifier() and not name.startswith("_") and self._take(")"):
                return name
        self._refuse(
            wording("the Java 'execution' object does not exist here; name the case field")
        )
        raise AssertionError


_EXAMPLE_CALL = wording(
    "a Python expression over the case data: what a Java object computed must come from a "
    "form or a script task first"
)


def _call(name: str) -> Wording:
    return wording(
        "'%(method)s(…)' calls a method of a Java object, which HazardFlow does not have",
        method=name,
    )
