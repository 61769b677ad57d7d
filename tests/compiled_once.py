"""What every test's app compiles alike, compiled once per test process.

Each test makes its own app (`create_app`), and with it compiled the same things again: Werkzeug turns each of the
~123 URL rules into a generated Python function that builds its URL (about 0.05 s of CPU per app), and each app's
Jinja environment parses and compiles every template it renders from scratch (up to a tenth of a second for a page
with its layout and includes). Neither depends on the test: the builder is a function of the rule's text, its
parts and defaults only, and a template's code is a function of its source and the environment's settings.

`install()` keeps them for the process: a rule's builder functions by what they are made from (the function is bound
to each rule as before, and reads the converters from the rule it is called on), and the templates' compiled code
in a Jinja bytecode cache shared by the apps' environments, keyed by the template, the environment's settings and
filter names, and checked against the source (an edited template is compiled again). The apps themselves, their
configuration, databases and globals stay each test's own.
"""

from __future__ import annotations

import jinja2
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing.rules import Rule

from tracker import templating

FILE_CACHE = templating.bytecode_cache


class SharedBytecode(BytecodeCache):
    """Compiled templates kept in memory for the process, per environment settings."""

    def __init__(self) -> None:
        self.store: dict[tuple, bytes] = {}

    @staticmethod
    def _settings(env: jinja2.Environment) -> tuple:
        # what the compiler reads from the environment: syntax, options, extensions, and the filters and tests that
        # exist (a call to an unknown one compiles to an error)
        return (
            type(env),
            env.block_start_string,
            env.variable_start_string,
            env.comment_start_string,
            env.line_statement_prefix,
            env.trim_blocks,
            env.lstrip_blocks,
            env.newline_sequence,
            env.keep_trailing_newline,
            env.optimized,
            env.is_async,
            tuple(sorted(env.extensions)),
            tuple(sorted(env.filters)),
            tuple(sorted(env.tests)),
            # Flask's autoescape is a bound method: the same choice for apps of one class
            getattr(env.autoescape, "__func__", env.autoescape),
        )

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self.store.get((self._settings(bucket.environment), bucket.key))
        if data is not None:
            bucket.bytecode_from_string(data)  # resets the bucket when the source's checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[(self._settings(bucket.environment), bucket.key)] = bucket.bytecode_to_string()


TEMPLATES = SharedBytecode()
_builders: dict[tuple, object] = {}


def _builder_key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = rule.defaults or {}
    return (
        rule.rule,
        tuple(rule._trace),
        tuple(sorted((str(k), repr(v)) for k, v in defaults.items())),
        # a default for a part of the rule is written into the builder as its converter writes it
        tuple(sorted((k, rule._converters[k].to_url(v)) for k, v in defaults.items() if k in rule._converters)),
        append_unknown,
    )


def install() -> None:
    """Share rule builders and compiled templates between the apps this process makes."""
    compile_builder = Rule._compile_builder
    if getattr(compile_builder, "shared", False):
        return

    def shared_builder(self: Rule, append_unknown: bool = True):
        key = _builder_key(self, append_unknown)
        if key not in _builders:
            _builders[key] = compile_builder(self, append_unknown)
        return _builders[key]

    shared_builder.shared = True
    Rule._compile_builder = shared_builder
    # every app keeps its compiled templates through templating.bytecode_cache (a folder in its instance path, each
    # test's own): in the suite they are kept in the process's memory instead, for every test's app
    templating.bytecode_cache = lambda _instance_path: TEMPLATES


def instance_bytecode_cache(instance_path: str):
    """The app's own cache (compiled templates in the instance folder), for the test of that cache."""
    return FILE_CACHE(instance_path)
