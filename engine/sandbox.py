"""The only script engine of HazardFlow: evaluates BPMN/DMN Python code in a whitelisted sandbox.

BPMN and DMN files uploaded by administrators carry Python source: gateway conditions, timer
expressions, DMN input/output entries, task property expressions, script tasks and pre/post
scripts. SpiffWorkflow's default environment runs them with plain ``eval``/``exec``, so an
uploaded file could run any command on the server. This module runs them instead:

* after an AST check that accepts only a whitelist of node types, names and attributes
  (no imports, no function/class definitions, no lambdas, no ``_``-prefixed names or
  attributes, no introspection builtins), see :func:`check`;
* with a fresh ``__builtins__`` holding a small set of harmless builtins plus the helper
  functions the application passes in;
* under a deadline enforced by a per-thread ``sys.settrace`` hook (works in Flask worker
  threads, where signals cannot be used), counted in the evaluating thread's CPU time less
  what its helpers and garbage collections spent: code here cannot wait (no I/O, no sleep),
  so all it can spend is CPU, while a busy machine, a slow database query of a helper, a
  full collection of a big process or a pause of the virtual machine (one jump of the clock
  is forgiven) must not make an honest script fail;
* with size guards: the AST is rewritten so that ``+ * ** << %``, f-strings, comprehensions,
  slice assignment and every call go through internal functions that check the size of the
  result *before* it is built (``10**10**10``, ``'a' * 10**10``, ``range(10**12)``, ...).

* with walk guards: work done inside one C-level operation cannot be interrupted (the deadline
  is checked between Python lines), and hashing or comparing a structure of shared parts is
  such work: ``{((((0,)*2,)*2,)*2 ...)}`` hashes 2^40 tuples. So every operand of a
  comparison, every set element and dict key, every subscript key and the container
  arguments of the builtins that hash or compare (``set``, ``sorted``, ``list.index``, ...)
  have their *expanded* size (shared parts counted each time they are reached) measured
  first, in time proportional to their distinct parts, against the size limit; so does the
  value of every expression. What a script leaves in task data must be plain, bounded JSON
  data (``engine.forms.plain_data_problems``, checked before SpiffWorkflow copies, compares
  or saves it).

Residual risk, by design of an in-process sandbox: a C-level operation this module does not
know of can still run long. Run workers with process-level limits (gunicorn's timeout, a
memory limit) as well.
"""

from __future__ import annotations

import ast
import functools
import gc
import itertools
import operator
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .forms import plain_data_problems
from .wording import Text, Wording, wording

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_RANGE_ITEMS",
    "MAX_SOURCE",
    "Sandbox",
    "SandboxEnvironment",
    "SandboxTimeout",
    "SandboxViolation",
    "check",
]

# SpiffWorkflow looks for frames of this file name to report the failing script line.
FILENAME = "<string>"
MAX_DEPTH = 100  # AST nesting; also keeps the recursive rewriter far from the recursion limit
MAX_INT_BITS = 100_000  # ~30,000 decimal digits; bigger ints only serve to burn CPU in C
MAX_RANGE_ITEMS = 1_000_000
MAX_SOURCE = 50_000  # characters of one expression or script
CACHE_SIZE = 1024
_THIS_FILE = __file__
# CPU seconds of the running evaluation that are not the code's own, per thread: its helpers'
# and the garbage collections that ran in it (a collection walks every object of the process)
_off_clock = threading.local()


def _helper_seconds() -> float:
    return getattr(_off_clock, "seconds", 0.0)


def _count_collections(phase: str, info: dict[str, Any]) -> None:
    """gc callback, in the thread that collects: a full collection in a big process can take
    a second, which is no expression's doing."""
    if phase == "start":
        _off_clock.collecting = time.thread_time()
        return
    started = getattr(_off_clock, "collecting", None)
    if started is not None:
        _off_clock.seconds = _helper_seconds() + time.thread_time() - started
        _off_clock.collecting = None


gc.callbacks.append(_count_collections)
_COLLECTIONS_CODE = _count_collections.__code__


def _untimed(helper: Callable[..., Any]) -> Callable[..., Any]:
    """`helper` run without the tracer and off the code's clock: helpers are trusted code (a
    query of the organisation), so their time or a cold cache inside them must not make an
    honest expression fail its deadline, and tracing every call of a database library would
    only slow it down."""

    def call(*args: Any, **kwargs: Any) -> Any:
        tracer = sys.gettrace()
        sys.settrace(None)
        before, started = _helper_seconds(), time.thread_time()
        try:
            return helper(*args, **kwargs)
        finally:  # its whole time once, collections inside it included
            _off_clock.seconds = before + time.thread_time() - started
            sys.settrace(tracer)

    call.__name__ = getattr(helper, "__name__", "helper")
    return call


class SandboxViolation(ValueError):
    """The source, or a value it tries to build, is not allowed in the sandbox. `said`: why,
    worded for the pages (engine/wording.py); str() is its English."""

    def __init__(self, said: Text) -> None:
        super().__init__(str(said))
        self.said = said


class SandboxTimeout(RuntimeError):
    """The code ran longer than the sandbox time limit."""


# --------------------------------------------------------------------------- static check

_ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Module,
        ast.Expression,
        # statements
        ast.Expr,
        ast.Assign,
        ast.AugAssign,
        ast.If,
        ast.For,
        ast.While,
        ast.Break,
        ast.Continue,
        ast.Pass,
        ast.Delete,
        ast.Raise,  # harmless without try/except, and lets a script fail a task with a message
        ast.Assert,
        # expressions
        ast.BoolOp,
        ast.BinOp,
        ast.UnaryOp,
        ast.IfExp,
        ast.Compare,
        ast.Call,
        ast.keyword,
        ast.Attribute,
        ast.Subscript,
        ast.Slice,
        ast.Starred,
        ast.Name,
        ast.Constant,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.List,
        ast.Tuple,
        ast.Set,
        ast.Dict,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
        ast.comprehension,
        # contexts and operators (MatMult is left out: no use on the allowed types)
        ast.Load,
        ast.Store,
        ast.Del,
        ast.And,
        ast.Or,
        ast.Add,
        ast.Sub,
        ast.Mult,
        ast.Div,
        ast.FloorDiv,
        ast.Mod,
        ast.Pow,
        ast.LShift,
        ast.RShift,
        ast.BitOr,
        ast.BitXor,
        ast.BitAnd,
        ast.Invert,
        ast.Not,
        ast.UAdd,
        ast.USub,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
        ast.Is,
        ast.IsNot,
        ast.In,
        ast.NotIn,
    }
)

_CONSTANT_TYPES = (str, bytes, int, float, complex, bool, type(None), type(...))

# Refused even though they are not in the sandbox builtins: a clear check-time message beats a
# NameError, and it stays safe if a helper of the same name is ever passed in by mistake.
DENIED_NAMES = frozenset(
    {
        "open",
        "exec",
        "eval",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "globals",
        "locals",
        "vars",
        "dir",
        "input",
        "breakpoint",
        "help",
        "type",
        "object",
        "super",
        "memoryview",
        "classmethod",
        "staticmethod",
        "property",
        "__import__",
    }
)

# str.format can walk attributes ("{0.__class__}"); the others lead to frames and code objects.
DENIED_ATTRIBUTES = frozenset(
    {
        "format",
        "format_map",
        "mro",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
    }
)

_DESCRIPTIONS: dict[type[ast.AST], Text] = {
    ast.Import: "import",
    ast.ImportFrom: "from ... import",
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.Lambda: "lambda",
    ast.ClassDef: "class",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Try: "try",
    ast.TryStar: "try",
    ast.With: "with",
    ast.AsyncWith: "async with",
    ast.AsyncFor: "async for",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.Return: "return",
    ast.NamedExpr: ":=",
    ast.AnnAssign: wording("annotated assignment"),
    ast.Match: "match",
    ast.MatMult: "@",
}


def _describe(node: ast.AST) -> Text:
    return _DESCRIPTIONS.get(type(node), type(node).__name__)


def _check_name(name: str, line: int) -> None:
    if name in DENIED_NAMES:
        raise SandboxViolation(
            wording("line %(line)s: name '%(name)s' is not allowed", line=line, name=name)
        )
    # '_' alone is the usual throwaway loop variable; every other '_' name is reserved.
    if name.startswith("_") and name != "_":
        raise SandboxViolation(
            wording(
                "line %(line)s: name '%(name)s' is not allowed (leading underscore)",
                line=line,
                name=name,
            )
        )


def _check_attribute(node: ast.Attribute, line: int) -> None:
    attr = node.attr
    if attr.startswith("__"):
        raise SandboxViolation(
            wording(
                "line %(line)s: access to dunder attribute '%(attribute)s' is not allowed",
                line=line,
                attribute=attr,
            )
        )
    if attr.startswith("_"):
        raise SandboxViolation(
            wording(
                "line %(line)s: access to private attribute '%(attribute)s' is not allowed",
                line=line,
                attribute=attr,
            )
        )
    if attr in DENIED_ATTRIBUTES:
        raise SandboxViolation(
            wording(
                "line %(line)s: attribute '%(attribute)s' is not allowed", line=line, attribute=attr
            )
        )
    if not isinstance(node.ctx, ast.Load):
        raise SandboxViolation(
            wording("line %(line)s: assigning or deleting attributes is not allowed", line=line)
        )


def _syntax_error(exc: SyntaxError) -> Wording:
    return wording(
        "line %(line)s: syntax error: %(error)s", line=exc.lineno or 1, error=str(exc.msg)
    )


def _nested_too_deeply(line: int) -> Wording:
    return wording("line %(line)s: code is nested too deeply", line=line)


def _is_slice_target(node: ast.AST) -> bool:
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)


def _parse_and_check(source: str, mode: str) -> ast.AST:
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    if not isinstance(source, str):
        raise SandboxViolation(
            wording("source must be a string, not %(type)s", type=type(source).__name__)
        )
    if len(source) > MAX_SOURCE:
        raise SandboxViolation(
            wording(
                "line %(line)s: code of %(length)s characters, more than %(limit)s",
                line=1,
                length=len(source),
                limit=MAX_SOURCE,
            )
        )
    try:
        tree = ast.parse(source, filename=FILENAME, mode=mode)
    except SyntaxError as exc:
        raise SandboxViolation(_syntax_error(exc)) from None
    except ValueError as exc:  # null bytes in the source
        raise SandboxViolation(
            wording("line %(line)s: %(error)s", line=1, error=str(exc))
        ) from None
    except (RecursionError, MemoryError):  # the parser gives up on absurd nesting
        raise SandboxViolation(_nested_too_deeply(1)) from None

    # Slice assignment can double a list per statement; it is rewritten into a checked call,
    # which is only possible for a plain `x[a:b] = v` / `x[a:b] += v` target.
    slice_targets: set[int] = set()
    # Iterative walk: recursion on hostile input is exactly what we must not do here.
    stack: list[tuple[ast.AST, int, int]] = [(tree, 0, 1)]
    while stack:
        node, depth, line = stack.pop()
        line = getattr(node, "lineno", line)
        # The checks below read the fields of the node type `kind` is tested for.
        checked: Any = node
        if depth > MAX_DEPTH:
            raise SandboxViolation(_nested_too_deeply(line))
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            raise SandboxViolation(
                wording("line %(line)s: '%(code)s' is not allowed", line=line, code=_describe(node))
            )
        if kind is ast.Name:
            _check_name(checked.id, line)
        elif kind is ast.Attribute:
            _check_attribute(checked, line)
        elif kind is ast.Constant:
            if not isinstance(checked.value, _CONSTANT_TYPES):
                raise SandboxViolation(
                    wording("line %(line)s: constant of this type is not allowed", line=line)
                )
        elif kind is ast.comprehension:
            if checked.is_async:
                raise SandboxViolation(
                    wording("line %(line)s: '%(code)s' is not allowed", line=line, code="async for")
                )
        elif kind is ast.Assign:
            if len(checked.targets) == 1 and _is_slice_target(checked.targets[0]):
                slice_targets.add(id(checked.targets[0]))
        elif kind is ast.AugAssign:
            if _is_slice_target(checked.target):
                slice_targets.add(id(checked.target))
        elif (
            kind is ast.Subscript
            and isinstance(checked.ctx, ast.Store)
            and isinstance(checked.slice, ast.Slice)
            and id(node) not in slice_targets
        ):
            raise SandboxViolation(
                wording(
                    "line %(line)s: slice assignment is only allowed as a single plain target",
                    line=line,
                )
            )
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, line))
    return tree


def check(source: str, mode: str = "eval") -> None:
    """Raise SandboxViolation unless ``source`` parses in ``mode`` and uses only allowed code.

    Also compiles (cached), so errors only the compiler finds, such as 'break' outside a
    loop, are reported at upload time too.
    """
    _compile(source, mode)


# --------------------------------------------------------------------------- rewriting


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    new = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
    return ast.copy_location(new, like)


_BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Add: "__sb_add__",
    ast.Mult: "__sb_mul__",
    ast.Pow: "__sb_pow__",
    ast.LShift: "__sb_lshift__",
    ast.Mod: "__sb_mod__",
}
_AUG_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Mult: "*",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.Mod: "%",
}


class _Rewriter(ast.NodeTransformer):
    """Routes every operation that can allocate a lot through a checking function.

    Runs after the check, so the internal ``__sb_*`` names it introduces are fine.
    """

    @staticmethod
    def _key(node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Slice):
            none = ast.Constant(value=None)
            args = [node.lower or none, node.upper or none, node.step or none]
            return _call("__sb_slice__", args, node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        return _call(guard, [node.left, node.right], node) if guard else node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        symbol = _AUG_SYMBOLS.get(type(node.op))
        target = node.target
        if symbol is None:
            return node  # -=, //=, ... cannot grow anything
        op = ast.Constant(value=symbol)
        if isinstance(target, ast.Name):
            load = ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
            value = _call("__sb_aug__", [op, load, node.value], node)
            return ast.copy_location(ast.Assign(targets=[target], value=value), node)
        assert isinstance(target, ast.Subscript)  # attribute targets are refused by the check
        args = [op, target.value, self._key(target.slice), node.value]
        return ast.copy_location(ast.Expr(value=_call("__sb_augitem__", args, node)), node)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        self.generic_visit(node)
        if len(node.targets) == 1 and _is_slice_target(node.targets[0]):
            target = node.targets[0]
            assert isinstance(target, ast.Subscript)
            args = [target.value, self._key(target.slice), node.value]
            return ast.copy_location(ast.Expr(value=_call("__sb_setslice__", args, node)), node)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node  # identity walks nothing
        node.left = _call("__sb_walk__", [node.left], node.left)
        node.comparators = [
            _call("__sb_in__" if isinstance(op, (ast.In, ast.NotIn)) else "__sb_walk__", [c], c)
            for op, c in zip(node.ops, node.comparators, strict=True)
        ]
        return node

    def visit_Set(self, node: ast.Set) -> ast.expr:
        self.generic_visit(node)
        node.elts = [_call("__sb_walk__", [e], e) for e in node.elts]
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.expr:
        self.generic_visit(node)
        node.keys = [k if k is None else _call("__sb_walk__", [k], k) for k in node.keys]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.slice, ast.Slice):  # a dict hashes its key
            node.slice = _call("__sb_walk__", [node.slice], node.slice)
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        new = ast.Call(
            func=ast.Name(id="__sb_call__", ctx=ast.Load()),
            args=[node.func, *node.args],
            keywords=node.keywords,
        )
        return ast.copy_location(new, node)

    def _comprehension(self, name: str, elt: ast.expr, node: ast.expr) -> ast.Call:
        generators = node.generators  # type: ignore[attr-defined]
        gen = ast.copy_location(ast.GeneratorExp(elt=elt, generators=generators), node)
        return _call(name, [gen], node)

    def visit_ListComp(self, node: ast.ListComp) -> ast.Call:
        self.generic_visit(node)
        return self._comprehension("__sb_list__", node.elt, node)

    def visit_SetComp(self, node: ast.SetComp) -> ast.Call:
        self.generic_visit(node)
        return self._comprehension("__sb_set__", _call("__sb_walk__", [node.elt], node), node)

    def visit_DictComp(self, node: ast.DictComp) -> ast.Call:
        self.generic_visit(node)
        key = _call("__sb_walk__", [node.key], node.key)
        pair = ast.copy_location(ast.Tuple(elts=[key, node.value], ctx=ast.Load()), node)
        return self._comprehension("__sb_dict__", pair, node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.Call:
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = self.visit(value.format_spec) if value.format_spec else ast.Constant("")
                args = [self.visit(value.value), ast.Constant(value.conversion), spec]
                parts.append(_call("__sb_fmt__", args, value))
            else:
                parts.append(value)
        return _call("__sb_fstr__", parts, node)

    def visit_While(self, node: ast.While) -> ast.While:
        self.generic_visit(node)
        # `while True: pass` is a jump to itself and emits no 'line' trace event; a call does.
        tick = ast.copy_location(ast.Expr(value=_call("__sb_tick__", [], node)), node)
        node.body.insert(0, tick)
        return node


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str, mode: str) -> types.CodeType:
    """Check, rewrite and compile once per distinct (source, mode)."""
    tree = _parse_and_check(source, mode)
    try:
        tree = ast.fix_missing_locations(_Rewriter().visit(tree))
        return compile(tree, FILENAME, mode)
    except SyntaxError as exc:  # e.g. 'break' outside a loop is only found by the compiler
        raise SandboxViolation(_syntax_error(exc)) from None
    except (RecursionError, MemoryError):
        raise SandboxViolation(_nested_too_deeply(1)) from None


# --------------------------------------------------------------------------- runtime guards

# Containers whose hashing and comparing walk every part: measured before (see `walk`).
_WALKED = frozenset({list, tuple, dict, set, frozenset})
_VIEWS = frozenset({type({}.keys()), type({}.values()), type({}.items())})
# Builtins and methods that hash or compare the parts of their container arguments.
_WALKING_BUILTINS = frozenset(id(f) for f in (set, frozenset, dict, sorted, min, max))
_METHOD_KINDS = (types.BuiltinMethodType, types.MethodDescriptorType)
_COMPARING_RECEIVER = frozenset({"index", "count", "remove", "sort"})
_WALKING_METHODS = frozenset(
    {
        "index",
        "count",
        "remove",
        "add",
        "discard",
        "get",
        "pop",
        "setdefault",
        "fromkeys",
        "update",
        "sort",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
    }
)
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_END = object()
_PLAIN_NUMBERS = (int, float)
_NUMBER_TYPES = frozenset({int, float, bool, type(None)})
# str/bytes/int methods whose result size is set by an argument; checked before the call.
_SIZE_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate", "to_bytes"}
)
# One %-conversion: optional (key), flags, width, .precision, length modifier, type.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?.", re.S)
_DIGITS = re.compile(r"\d+")


def _where() -> str:
    """'line N: ' of the innermost sandboxed frame, for runtime messages."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == FILENAME:
            return f"line {frame.f_lineno}: "
        frame = frame.f_back
    return ""


def _number(digits: str | None) -> int:
    """Width/precision digits as an int, without converting absurdly long digit strings."""
    if not digits:
        return 0
    return int(digits) if len(digits) < 10 else 10**10


def _types(container: Any) -> set[type]:
    if type(container) is dict:
        return set(map(type, container)) | set(map(type, container.values()))
    return set(map(type, container))


def _flat_measure(container: Any, types: set[type], leaf: Callable[[Any], int]) -> int | None:
    """The measure of the parts of a container that holds no container (`types`: theirs),
    at C speed for the usual cases (numbers only, texts only); None for a mix."""
    parts: Iterable[Any] = container
    count = len(container)
    if type(container) is dict:
        parts = itertools.chain(container, container.values())
        count *= 2
    if types <= _NUMBER_TYPES:
        if leaf is _part_weight:
            return count
        if types <= {int, bool}:
            return sum(map(int.bit_length, parts)) // 3 + 2 * count
        return None
    if types <= {str}:
        lengths = sum(map(len, parts))
        return count + lengths // 64 if leaf is _part_weight else lengths + 3 * count
    return None


def _part_weight(part: Any) -> int:
    kind = type(part)
    return 1 + len(part) // 64 if kind is str or kind is bytes else 1


def _one_if_empty(container: Any) -> int:
    return 0 if container else 1  # a list of n numbers weighs n, as the size guards count


def _repr_weight(part: Any) -> int:
    if isinstance(part, (str, bytes, bytearray)):
        return len(part) + 3
    if isinstance(part, int):
        return part.bit_length() // 3 + 2
    return 64


def _repr_overhead(container: Any) -> int:
    return 2 + (4 if isinstance(container, dict) else 2) * len(container)


def _tick() -> None:
    """Does nothing; calling it gives the tracer a chance to check the deadline."""


def _discard(*_args: Any, **_kwargs: Any) -> None:
    """print() in process scripts: accepted, and the output dropped (a server has no console)."""


class _Guards:
    """The internal ``__sb_*`` functions of one Sandbox, bound to its size limit."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.max_range = min(max_size, MAX_RANGE_ITEMS)
        self._aug_ops: dict[str, tuple[Callable[[Any, Any], None], Callable[[Any, Any], Any]]]
        self._aug_ops = {
            "+": (self._check_add, operator.iadd),
            "*": (self._check_mul, operator.imul),
            "**": (self._check_pow, operator.ipow),
            "<<": (self._check_lshift, operator.ilshift),
            "%": (self._check_mod, operator.imod),
        }

    def namespace(self) -> dict[str, Any]:
        return {
            "__sb_call__": self.call,
            "__sb_add__": self.add,
            "__sb_mul__": self.mul,
            "__sb_pow__": self.pow,
            "__sb_lshift__": self.lshift,
            "__sb_mod__": self.mod,
            "__sb_aug__": self.aug,
            "__sb_augitem__": self.augitem,
            "__sb_setslice__": self.setslice,
            "__sb_slice__": slice,
            "__sb_list__": self.make_list,
            "__sb_set__": self.make_set,
            "__sb_dict__": self.make_dict,
            "__sb_fmt__": self.fmt,
            "__sb_fstr__": self.fstr,
            "__sb_tick__": _tick,
            "__sb_walk__": self.walk,
            "__sb_in__": self.walk_in,
        }

    def builtins(self) -> dict[str, Any]:
        return {
            "None": None,
            "True": True,
            "False": False,
            "abs": abs,
            "all": all,
            "any": any,
            "bool": bool,
            "dict": dict,
            "divmod": divmod,
            "enumerate": enumerate,
            "filter": filter,
            "float": float,
            "frozenset": frozenset,
            "int": int,
            "isinstance": isinstance,
            "len": len,
            "list": list,
            "map": map,
            "max": max,
            "min": min,
            "range": self.range,  # a checked function, safe whoever calls it
            "reversed": reversed,
            "round": round,
            "set": set,
            "sorted": sorted,
            "str": str,
            "sum": self.sum,
            "tuple": tuple,
            "zip": zip,
            "print": _discard,  # scripts written for SpiffWorkflow often print; no console here
            "Exception": Exception,
            "ValueError": ValueError,
            "TypeError": TypeError,
            "KeyError": KeyError,
            "IndexError": IndexError,
        }

    # -- limits
    def _check_len(self, size: int, what: str = "result") -> None:
        if size > self.max_size:
            raise SandboxViolation(
                f"{_where()}{what} would have {size} items/characters, "
                f"more than the limit of {self.max_size}"
            )

    @staticmethod
    def _check_bits(bits: int) -> None:
        if bits > MAX_INT_BITS:
            raise SandboxViolation(
                f"{_where()}integer result would exceed the limit of {MAX_INT_BITS} bits"
            )

    def _measure(
        self, value: Any, leaf: Callable[[Any], int], overhead: Callable[[Any], int]
    ) -> int:
        """`overhead(container)` plus the measures of its parts, shared parts counted each
        time they are reached, in time proportional to the distinct parts: memoized by id,
        saturating just past the size limit. A value containing itself measures past it."""
        past = self.max_size + 1
        if type(value) not in _WALKED:
            return min(leaf(value), past)
        sizes: dict[int, int] = {}
        open_: set[int] = set()
        stack = [value]
        while stack:
            item = stack[-1]
            key = id(item)
            if key in sizes:
                stack.pop()
                continue
            parts = itertools.chain(item.keys(), item.values()) if type(item) is dict else item
            if key not in open_:
                open_.add(key)
                types = _types(item)
                if types.isdisjoint(_WALKED):  # no container inside: measured at once
                    flat = _flat_measure(item, types, leaf)
                    if flat is None:
                        flat = sum(map(leaf, parts))
                    sizes[key] = min(overhead(item) + flat, past)
                    stack.pop()
                    continue
                for part in parts:
                    if type(part) in _WALKED and id(part) not in sizes:
                        if id(part) in open_:
                            return past  # contains itself
                        stack.append(part)
                continue
            total = overhead(item)
            for part in parts:
                total += sizes[id(part)] if type(part) in _WALKED else leaf(part)
                if total >= past:
                    total = past
                    break
            sizes[key] = total
            stack.pop()
        return sizes[id(value)]

    def expanded_size(self, value: Any) -> int:
        """The parts a hash, a comparison or a serializer reaches in `value` (texts weigh by
        their length too); SandboxViolation once over the size limit, or for a value that
        contains itself."""
        size = self._measure(value, _part_weight, _one_if_empty)
        if size > self.max_size:
            raise SandboxViolation(
                f"{_where()}a value of more than {self.max_size} parts (counting each time a "
                "shared part is reached) cannot be compared, hashed or kept"
            )
        return size

    def walk(self, value: Any) -> Any:
        """`value` unchanged, once its expanded size is within the limit."""
        kind = type(value)
        if kind in _WALKED:
            self.expanded_size(value)
        elif kind in _VIEWS:  # d.items() == e.items() compares the values
            self.expanded_size(list(value))
        return value

    def walk_in(self, container: Any) -> Any:
        """The right side of `in`: a set or dict is looked up by hash (its parts are not
        walked, the left side is), a list or tuple compared part by part."""
        if type(container) in (list, tuple):
            self.expanded_size(container)
        elif type(container) in _VIEWS:
            self.expanded_size(list(container))
        return container

    def _walk_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """The arguments, an iterator among them made a (bounded) list first: what
        `sorted(x for x in ...)` compares must be measured too, and a dict view is measured
        as the list of what it shows."""
        checked = []
        for arg in args:
            if type(arg) in _VIEWS:
                self.expanded_size(list(arg))
            elif type(arg) not in _WALKED and hasattr(arg, "__next__"):
                arg = self.make_list(arg)
            checked.append(self.walk(arg))
        for arg in kwargs.values():
            self.walk(arg)
        return tuple(checked)

    def _repr_size(self, value: Any) -> int:
        """Upper-bound-ish length of str(value), measured without expanding shared parts;
        just past the limit once over it."""
        return self._measure(value, _repr_weight, _repr_overhead)

    # -- operators
    def _check_add(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            self._check_bits(max(a.bit_length(), b.bit_length()) + 1)
        elif isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._check_len(len(a) + len(b))

    def _check_mul(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            self._check_bits(a.bit_length() + b.bit_length())
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self._check_len(len(a) * max(b, 0))
        elif isinstance(a, int) and isinstance(b, _SEQUENCES):
            self._check_len(len(b) * max(a, 0))

    def _check_pow(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int) and b > 1 and a not in (-1, 0, 1):
            self._check_bits(a.bit_length() * b)

    def _check_lshift(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._check_bits(a.bit_length() + b)

    def _check_mod(self, a: Any, b: Any) -> None:
        if not isinstance(a, (str, bytes)):
            return
        text = a if isinstance(a, str) else a.decode("latin-1")
        total = len(text)
        for match in _PERCENT_SPEC.finditer(text):
            for number in match.groups():
                if number == "*":
                    raise SandboxViolation(f"{_where()}'*' width in %-formatting is not allowed")
                total += _number(number)
        self._check_len(total + self._repr_size(b), "formatted text")

    # The public operators keep the common case (numbers, short operands) free of extra Python
    # frames: every frame costs a trace-hook call while the deadline is armed.
    def add(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() >= MAX_INT_BITS or b.bit_length() >= MAX_INT_BITS:
                self._check_add(a, b)
        elif isinstance(a, _SEQUENCES):
            self._check_add(a, b)
        return a + b

    def mul(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                self._check_mul(a, b)
        elif isinstance(a, _SEQUENCES) or isinstance(b, _SEQUENCES):
            self._check_mul(a, b)
        return a * b

    def pow(self, a: Any, b: Any) -> Any:
        self._check_pow(a, b)
        return a**b

    def lshift(self, a: Any, b: Any) -> Any:
        self._check_lshift(a, b)
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, (str, bytes)):
            self._check_mod(a, b)
        return a % b

    def aug(self, op: str, a: Any, b: Any) -> Any:
        if op == "+" and type(a) in _PLAIN_NUMBERS and type(b) in _PLAIN_NUMBERS:
            # x += 1, the common case, without the extra checker frame
            small = type(a) is float or a.bit_length() < MAX_INT_BITS
            if small and (type(b) is float or b.bit_length() < MAX_INT_BITS):
                return a + b
        checker, apply = self._aug_ops[op]
        checker(a, b)
        return apply(a, b)

    def augitem(self, op: str, obj: Any, key: Any, value: Any) -> None:
        result = self.aug(op, obj[key], value)
        if isinstance(key, slice):
            self.setslice(obj, key, result)
        else:
            obj[key] = result

    def setslice(self, obj: Any, key: slice, value: Any) -> None:
        if isinstance(obj, (list, bytearray)):
            if not isinstance(value, _SIZED):
                value = list(itertools.islice(value, self.max_size + 1))
            self._check_len(len(obj) + len(value))
        obj[key] = value

    # -- comprehensions: islice keeps the C speed and still stops at the limit
    def _bounded(self, factory: Callable[[Iterable[Any]], Any], gen: Iterable[Any]) -> Any:
        iterator = iter(gen)
        result = factory(itertools.islice(iterator, self.max_size))
        if next(iterator, _END) is not _END:
            self._check_len(self.max_size + 1, "comprehension")
        return result

    def make_list(self, gen: Iterable[Any]) -> list[Any]:
        return self._bounded(list, gen)

    def make_set(self, gen: Iterable[Any]) -> set[Any]:
        return self._bounded(set, gen)

    def make_dict(self, gen: Iterable[Any]) -> dict[Any, Any]:
        return self._bounded(dict, gen)

    # -- f-strings
    def fmt(self, value: Any, conversion: int, spec: str) -> str:
        widths = sum(_number(digits) for digits in _DIGITS.findall(spec))
        self._check_len(2 * self._repr_size(value) + widths, "formatted text")
        if conversion == ord("s"):
            value = str(value)
        elif conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        return format(value, spec)

    def fstr(self, *parts: str) -> str:
        self._check_len(sum(len(part) for part in parts), "f-string")
        return "".join(parts)

    # -- builtins that need limits
    def range(self, *args: int) -> range:
        result = range(*args)
        try:
            size = len(result)
        except OverflowError:
            size = sys.maxsize
        if size > self.max_range:
            raise SandboxViolation(
                f"{_where()}range() with {size} items exceeds the limit of {self.max_range}"
            )
        return result

    def sum(self, iterable: Iterable[Any], /, start: Any = 0) -> Any:
        if isinstance(start, (int, float, complex)):
            return sum(iterable, start)  # numbers: the int guard on results bounds growth
        if isinstance(start, (str, bytes, bytearray)):
            raise TypeError("sum() can't sum strings [use ''.join(seq) instead]")
        total = start
        for item in iterable:  # lists etc.: each step checked, instead of one quadratic C loop
            total = self.add(total, item)
        return total

    # -- calls
    def _guard(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return functools.partial(self.call, func)

    def _precheck_builtin(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if func is str and len(args) == 1 and isinstance(args[0], _CONTAINERS):
            self._check_len(self._repr_size(args[0]), "text")
        elif func is round and args and isinstance(args[0], int):
            ndigits = args[1] if len(args) > 1 else kwargs.get("ndigits")
            if isinstance(ndigits, int) and ndigits < 0:
                self._check_bits(-ndigits * 4)  # int.__round__ computes 10 ** -ndigits

    def _check_method(
        self, receiver: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Refuse str/bytes/int method calls whose result would be too large."""
        if isinstance(receiver, int):
            length = args[0] if args else kwargs.get("length", 1)
            if name == "to_bytes" and isinstance(length, int):
                self._check_len(length)
            return args
        text = receiver
        if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
            self._check_len(args[0])
        elif name == "expandtabs":
            tabsize = args[0] if args else kwargs.get("tabsize", 8)
            tab = "\t" if isinstance(text, str) else b"\t"
            if isinstance(tabsize, int):
                self._check_len(len(text) + text.count(tab) * max(tabsize, 0))
        elif name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, type(text)) and isinstance(new, type(text)):
                count = text.count(old) if old else len(text) + 1
                if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                    count = min(count, args[2])
                self._check_len(len(text) + count * max(len(new) - len(old), 0))
        elif name == "join" and args:
            items = list(itertools.islice(iter(args[0]), self.max_size + 1))
            sizes = sum(len(item) for item in items if isinstance(item, (str, bytes)))
            self._check_len(len(items) + sizes + len(text) * max(len(items) - 1, 0))
            return (items, *args[1:])
        elif name == "translate" and args and isinstance(args[0], Mapping):
            longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
            self._check_len(len(text) * max(longest, 1))
        return args

    def call(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Every call in sandboxed code goes through here."""
        kind = type(func)
        receiver = None
        if id(func) in _WALKING_BUILTINS:  # set(...), sorted(...): they hash or compare
            args = self._walk_arguments(args, kwargs)
        elif kind in _METHOD_KINDS and func.__name__ in _WALKING_METHODS:
            args = self._walk_arguments(args, kwargs)
            if kind is types.BuiltinMethodType and func.__name__ in _COMPARING_RECEIVER:
                self.walk(func.__self__)  # lst.index(x), lst.sort(): the list's parts compared
        if func is str or func is round:
            self._precheck_builtin(func, args, kwargs)
        elif kind is types.BuiltinMethodType:  # bound, e.g. 'a'.center(...) or lst.extend(...)
            receiver = func.__self__
            if func.__name__ in _SIZE_METHODS and isinstance(receiver, (str, bytes, int)):
                args = self._check_method(receiver, func.__name__, args, kwargs)
        elif kind is types.MethodDescriptorType:  # unbound, e.g. str.center('a', ...)
            if func.__name__ in _SIZE_METHODS and args and isinstance(args[0], (str, bytes, int)):
                args = (args[0], *self._check_method(args[0], func.__name__, args[1:], kwargs))
        elif (func is map or func is filter) and args and callable(args[0]):
            # C code calls this callable without passing through here: wrap it.
            args = (self._guard(args[0]), *args[1:])
        if kwargs and callable(kwargs.get("key")):  # sorted/min/max/list.sort
            kwargs["key"] = self._guard(kwargs["key"])
        result = func(*args, **kwargs)
        if isinstance(result, _SIZED):
            if len(result) > self.max_size:
                self._check_len(len(result))
        elif isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            self._check_bits(result.bit_length())
        # Growing a container in place, e.g. lst.extend(lst) in a loop.
        if isinstance(receiver, (list, dict, set, bytearray)) and len(receiver) > self.max_size:
            self._check_len(len(receiver))
        return result


# --------------------------------------------------------------------------- public API


class Sandbox:
    """Evaluates expressions and runs scripts under the whitelist, a deadline and size limits.

    Thread-safe: an instance holds no per-call state, and the deadline is enforced with a
    trace hook installed only in the calling thread for the duration of the call.
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        time_limit: float = 1.0,
        max_size: int = 10_000_000,
    ) -> None:
        if time_limit <= 0:
            raise ValueError("time_limit must be positive")
        if max_size <= 0:
            raise ValueError("max_size must be positive")
        self.functions: dict[str, Callable[..., Any]] = {
            name: _untimed(helper) for name, helper in (functions or {}).items()
        }
        self.time_limit = time_limit
        self.max_size = max_size
        self._guards = _Guards(max_size)
        self._internals = self._guards.namespace()

    def _namespace(self, context: Mapping[str, Any]) -> dict[str, Any]:
        # Like Spiff's TaskDataEnvironment, task data shadows helpers of the same name.
        namespace: dict[str, Any] = dict(self.functions)
        namespace.update(context)
        namespace.update(self._internals)
        namespace["__builtins__"] = self._guards.builtins()  # fresh per call
        return namespace

    def _run(self, code: types.CodeType, namespace: dict[str, Any], what: str) -> Any:
        outer_helpers = _helper_seconds()  # an evaluation inside a helper keeps its own count
        _off_clock.seconds = 0.0
        last = time.thread_time()
        deadline, jumped = last + self.time_limit, False
        message = f"{what} exceeded {self.time_limit} s"

        def over() -> bool:
            """Past the deadline. One jump of the clock between two checks is forgiven: the
            virtual machines this runs on charge a thread that was running when the machine
            was paused with the pause (seen on CI: a DMN output `1` "took" over a second
            before its first line); the code's own loops advance in small steps."""
            nonlocal last, deadline, jumped
            now = time.thread_time() - _helper_seconds()
            if now - last > self.time_limit / 2 and not jumped:
                jumped, deadline = True, deadline + now - last
            last = now
            return now > deadline

        def tracer(frame: types.FrameType, event: str, arg: Any) -> Any:
            if frame.f_code is _COLLECTIONS_CODE:
                return None  # counting a collection is not the code's time
            filename = frame.f_code.co_filename
            if filename == FILENAME:
                if over():
                    raise SandboxTimeout(message)
                return tracer  # keep receiving 'line' events for this frame
            if filename == _THIS_FILE and over():
                raise SandboxTimeout(message)
            return None  # helpers are trusted code: never interrupted, not traced line by line

        previous = sys.gettrace()  # e.g. coverage; put back afterwards
        sys.settrace(tracer)
        try:
            return eval(code, namespace)  # checked and rewritten code only
        finally:
            sys.settrace(previous)
            _off_clock.seconds = outer_helpers

    def evaluate(self, expression: str, context: Mapping[str, Any]) -> Any:
        """Return the value of ``expression`` with ``context`` as its variables."""
        code = _compile(expression, "eval")
        # the value goes where no guard is (a DMN output into task data, a list of candidates)
        return self._guards.walk(self._run(code, self._namespace(context), "expression"))

    def execute(self, script: str, context: dict[str, Any]) -> None:
        """Run ``script`` with ``context`` as its variables, then store its variables back.

        ``context`` is updated in place only if the script succeeds. Callables (helpers, or
        anything callable the script bound), ``__builtins__`` and other dunder names the
        script machinery added are not copied back.
        """
        code = _compile(script, "exec")
        namespace = self._namespace(context)
        self._run(code, namespace, "script")
        result: dict[str, Any] = {}
        for key, value in namespace.items():
            if key.startswith("__"):  # scripts cannot bind such names; keep only task data's
                if key in context and key != "__builtins__":
                    result[key] = context[key]
            elif not callable(value):
                result[key] = value
        context.clear()
        context.update(result)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs everything in a :class:`Sandbox`.

    Use as ``PythonScriptEngine(environment=SandboxEnvironment(functions))``. Semantics follow
    Spiff's TaskDataEnvironment: ``execute`` updates the task data dict in place and returns
    True; ``external_context`` entries (e.g. DMN input values) are readable but not kept.
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        time_limit: float = 1.0,
        max_size: int = 10_000_000,
        *,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.sandbox = sandbox or Sandbox(functions, time_limit, max_size)
        super().__init__(dict(self.sandbox.functions))

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        variables = dict(external_context or {})
        variables.update(context)
        return self.sandbox.evaluate(expression, variables)

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        external = external_context or {}
        self.check_for_overwrite(context, external)
        variables = dict(external)
        variables.update(context)
        self.sandbox.execute(script, variables)
        for key in external:
            variables.pop(key, None)
        self._check_task_data(context, variables)
        context.clear()
        context.update(variables)
        return True

    @staticmethod
    def _check_task_data(before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        """What the script set must be plain JSON data of bounded size, checked before
        SpiffWorkflow copies, compares or saves it (a `map` object, a list of 2^64 shared
        parts): the same rule as for form data (engine/forms.py)."""
        changed = {k: v for k, v in after.items() if k not in before or before[k] is not v}
        problems = plain_data_problems(changed)
        if problems:
            names = ", ".join(sorted(problems))
            raise SandboxViolation(
                f"the script left data that is not plain JSON of bounded size in: {names}"
            )

    def check_for_overwrite(self, context: Mapping[str, Any], external: Mapping[str, Any]) -> None:
        """Fail fast when task data would hide a helper function (else: baffling errors)."""
        clashes = (set(self.globals) | set(external)) & set(context)
        if clashes:
            raise ValueError(
                "task data overwrites predefined function(s) or variable(s); rename these "
                f"variables or form fields: {', '.join(sorted(clashes))}"
            )
