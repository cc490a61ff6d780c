#!/usr/bin/env python3
"""Offline consistency check of the Terraform under terraform/.

Terraform itself is not needed: every .tf file is parsed with python-hcl2 and
the references between files, directories and modules are checked the way
`terraform validate` would catch them:

  * every .tf file parses (a parse error names the file);
  * every `module` block's source resolves to a module directory, every
    argument it passes is a `variable` of that module, and every variable of
    that module without a default is passed;
  * provider configurations across module calls: every configuration alias a
    module declares (`configuration_aliases` in its required_providers) is
    passed in the call's `providers` map; every key of that map is a provider
    (or alias) the module declares; every value is a provider configuration
    of the calling directory (a `provider` block, a required_providers entry
    or one of its configuration_aliases); and, since a `providers` map
    replaces inheritance, it passes every provider the module declares;
  * in each directory, every `var.X` is a declared variable, every `local.X`
    a declared local, every `module.M.O` a module block M whose (local) source
    declares output O, and every `TYPE.NAME` / `data.TYPE.NAME` a resource /
    data source declared in that directory (count/for_each indexes and
    references inside "${...}" strings included).

It does not know provider schemas: resource argument names are left to
checkov (which parses them) and, where Terraform is available, `terraform
validate`.

Usage:
  python3 scripts/check_terraform.py [TERRAFORM_DIR]   # default: <repo>/terraform
  python3 scripts/check_terraform.py --self-test

Exit status 0 when everything resolves, 1 with one line per problem.

Needs a Python module `hcl2`. Written against python-hcl2==8.1.4 (pip install
python-hcl2==8.1.4); also tested with python-hcl2 7.3.1 and with the `hcl2`
that checkov's dependency bc-python-hcl2 0.4.3 (checkov 3.3.30) installs over
the same name, so it can share checkov's virtualenv.
"""

from __future__ import annotations

import inspect
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

try:
    import hcl2
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("check_terraform: needs the hcl2 module (pip install python-hcl2==8.1.4)")
# python-hcl2 >= 8 takes serialization options (keep heredocs out of the way,
# drop comments); older versions, and the bc-python-hcl2 fork that checkov
# installs under the same module name, take none. Ask the function itself: a
# virtualenv holding both packages can mix their files.
PARSE_KW = {}
if "serialization_options" in inspect.signature(hcl2.loads).parameters:
    from hcl2.utils import SerializationOptions
    PARSE_KW["serialization_options"] = SerializationOptions(with_comments=False,
                                                             preserve_heredocs=False)

# Arguments of a module block that are not input variables.
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}
# Provider prefixes whose TYPE.NAME references are resource references.
KNOWN_PROVIDERS = {"aws", "random", "null", "archive", "tls", "time", "local", "http",
                   "external", "kubernetes", "helm", "cloudinit", "template"}
# Roots that are never declared in the configuration.
BUILTIN_ROOTS = {"var", "local", "module", "data", "each", "count", "path", "self",
                 "terraform"}

IDENT = r"[A-Za-z_][\w-]*"
REF_RE = re.compile(
    rf"(?<![\w.\-])(?P<root>{IDENT})\s*\.\s*(?P<a>{IDENT})"
    rf"(?:\s*(?:\[[^\[\]]*\]\s*)?\.\s*(?P<b>{IDENT}))?")
FOR_RE = re.compile(rf"\bfor\s+({IDENT})(?:\s*,\s*({IDENT}))?\s+in\b")


def display(path: Path) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def unquote(label) -> str:
    """The plain text of a label or literal: python-hcl2 8 keeps the quotes of
    block labels and string literals; older versions (and checkov's fork) wrap
    attribute values in one-element lists instead."""
    if isinstance(label, list) and len(label) == 1:
        label = label[0]
    label = str(label)
    if len(label) >= 2 and label[0] == '"' and label[-1] == '"':
        return label[1:-1]
    return label


# ------------------------------------------------------ expression scanning

def _scan_code(s: str, i: int, nested: list[str]) -> tuple[int, str]:
    """Scans HCL expression code from s[i] to an unmatched '}' or the end.

    String literals are blanked out of the returned code; the code of their
    interpolations is appended to `nested`."""
    out, depth = [], 0
    while i < len(s):
        c = s[i]
        if c == '"':
            i = _scan_template(s, i + 1, nested, quoted=True)
            out.append('""')
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i, "".join(out)
            depth -= 1
        out.append(c)
        i += 1
    return i, "".join(out)


def _scan_template(s: str, i: int, nested: list[str], quoted: bool) -> int:
    """Scans template text from s[i]; appends the code of each ${...} / %{...}
    to `nested`. Returns the index after the closing quote (or the end)."""
    while i < len(s):
        if quoted and s[i] == "\\":
            i += 2
        elif quoted and s[i] == '"':
            return i + 1
        elif s.startswith("$${", i) or s.startswith("%%{", i):
            i += 3
        elif s.startswith("${", i) or s.startswith("%{", i):
            j, code = _scan_code(s, i + 2, nested)
            nested.append(code)
            i = j + 1
        else:
            i += 1
    return i


def code_fragments(value: str) -> list[str]:
    """The expression code in one serialized value: '"text ${x}"' (a template),
    '${expr}' (an expression) or a bare word (ignore_changes entries)."""
    nested: list[str] = []
    if value.startswith('"'):
        _scan_template(value, 1, nested, quoted=True)
    else:
        _scan_template(value, 0, nested, quoted=False)
    return nested


@dataclass
class Ref:
    kind: str          # var | local | module | resource | data
    parts: tuple       # names after the root
    file: str
    where: str         # the block the reference is in


def references(code: str) -> list[tuple[str, tuple]]:
    iterators = {n for m in FOR_RE.finditer(code) for n in m.groups() if n}
    found = []
    for m in REF_RE.finditer(code):
        root, a, b = m.group("root"), m.group("a"), m.group("b")
        if root in iterators:
            continue
        if root in ("var", "local"):
            found.append((root, (a,)))
        elif root == "module":
            found.append(("module", (a, b) if b else (a,)))
        elif root == "data" and b:
            found.append(("data", (a, b)))
        elif root not in BUILTIN_ROOTS and "_" in root and root.split("_")[0] in KNOWN_PROVIDERS:
            found.append(("resource", (root, a)))
    return found


# ------------------------------------------------------------ directories

@dataclass
class ModuleCall:
    name: str
    source: str
    args: set
    file: str
    providers: dict | None = None   # key in the module -> configuration here


def provider_ref(value) -> str:
    """'aws' / 'aws.east' from a providers-map key or value, an alias list
    entry or a provider block label, as either parser serializes them
    ('${aws.east}', '"aws"', ['aws.east'], ...)."""
    value = unquote(value).strip()
    if value.startswith("${") and value.endswith("}"):
        value = value[2:-1].strip()
    return unquote(value)


@dataclass
class Directory:
    path: Path
    files: list = field(default_factory=list)
    variables: dict = field(default_factory=dict)   # name -> has default
    locals: set = field(default_factory=set)
    outputs: set = field(default_factory=set)
    resources: set = field(default_factory=set)     # (type, name)
    data: set = field(default_factory=set)
    modules: dict = field(default_factory=dict)     # name -> ModuleCall
    # provider local name -> its configuration_aliases (required_providers)
    required_providers: dict = field(default_factory=dict)
    provider_configs: set = field(default_factory=set)  # "aws", "aws.east" (provider blocks)
    refs: list = field(default_factory=list)
    dynamic_iterators: set = field(default_factory=set)


def walk_values(node, visit, skip_keys=()):
    """Calls visit(string) for every string value (and '${...}' key) below node."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k.startswith("__") or k in skip_keys:
                continue
            if k.startswith("${"):
                visit(k)
            walk_values(v, visit)
    elif isinstance(node, list):
        for v in node:
            walk_values(v, visit)
    elif isinstance(node, str):
        visit(node)


def collect_dynamic_iterators(node, out: set):
    """Names usable as NAME.value inside `dynamic "NAME"` blocks (or their
    `iterator = X`), which are not resource references."""
    if isinstance(node, dict):
        for block in node.get("dynamic", []) if isinstance(node.get("dynamic"), list) else []:
            for label, body in block.items():
                if not label.startswith("__"):
                    out.add(unquote(label))
                    if isinstance(body, dict) and isinstance(body.get("iterator"), str):
                        out.add(body["iterator"].strip("${}\" "))
        for v in node.values():
            collect_dynamic_iterators(v, out)
    elif isinstance(node, list):
        for v in node:
            collect_dynamic_iterators(v, out)


def at(file: str, text: str, *header: str) -> str:
    """file:line of the block `header[0] "header[1]" ...` (python-hcl2 8.1.4
    reports no line numbers, so the header is looked up in the source)."""
    pattern = r"^[ \t]*" + r"\s+".join([re.escape(header[0])] +
                                       [f'"{re.escape(h)}"' for h in header[1:]]) + r"\s*\{"
    m = re.search(pattern, text, re.M)
    return f"{file}:{text.count(chr(10), 0, m.start()) + 1}" if m else file


def add_refs(d: Directory, node, file: str, where: str, skip_keys=()):
    def visit(value: str):
        for code in code_fragments(value):
            for kind, parts in references(code):
                d.refs.append(Ref(kind, parts, file, where))
    walk_values(node, visit, skip_keys)


def labeled(doc: dict, kind: str, depth: int):
    """Yields (labels, body) of every `kind` block, which has `depth` labels."""
    def walk(node, depth, labels):
        if depth == 0:
            yield labels, node
            return
        for k, v in node.items():
            if not k.startswith("__"):
                yield from walk(v, depth - 1, labels + (unquote(k),))
    for block in doc.get(kind, []):
        yield from walk(block, depth, ())


def load_directory(path: Path, problems: list[str]) -> Directory:
    d = Directory(path)
    for tf in sorted(path.glob("*.tf")):
        d.files.append(tf)
        try:
            text = tf.read_text(encoding="utf-8")
            doc = hcl2.loads(text, **PARSE_KW)
        except Exception as e:  # lark raises several exception types
            problems.append(f"{display(tf)}: parse error: {str(e).splitlines()[0]}")
            continue
        f = display(tf)
        collect_dynamic_iterators(doc, d.dynamic_iterators)
        for (name,), body in labeled(doc, "variable", 1):
            d.variables[name] = "default" in body
            add_refs(d, body, at(f, text, "variable", name), f"variable {name}")
        for (name,), value in labeled(doc, "locals", 1):
            d.locals.add(name)
            add_refs(d, value, at(f, text, "locals"), f"local {name}")
        for (name,), body in labeled(doc, "output", 1):
            d.outputs.add(name)
            add_refs(d, body, at(f, text, "output", name), f"output {name}")
        for key, body in labeled(doc, "resource", 2):
            d.resources.add(key)
            add_refs(d, body, at(f, text, "resource", *key), ".".join(key))
        for key, body in labeled(doc, "data", 2):
            d.data.add(key)
            add_refs(d, body, at(f, text, "data", *key), "data." + ".".join(key))
        for (name,), body in labeled(doc, "module", 1):
            args = {k for k in body if not k.startswith("__") and k not in MODULE_META_ARGS}
            where = at(f, text, "module", name)
            providers = body.get("providers")
            if isinstance(providers, list) and len(providers) == 1:
                providers = providers[0]
            if isinstance(providers, dict):
                providers = {provider_ref(k): provider_ref(v) for k, v in providers.items()
                             if not k.startswith("__")}
            elif providers is not None:
                problems.append(f"{where}: module {name}: providers is not a map")
                providers = None
            d.modules[name] = ModuleCall(name, unquote(body.get("source", "")), args, where,
                                         providers)
            # a `providers` map names provider configurations, not values
            add_refs(d, body, where, f"module {name}", skip_keys=("providers",))
        for (name,), body in labeled(doc, "provider", 1):
            alias = body.get("alias") if isinstance(body, dict) else None
            d.provider_configs.add(f"{name}.{provider_ref(alias)}" if alias else name)
        for block in doc.get("terraform", []):
            for req in block.get("required_providers", []) if isinstance(block, dict) else []:
                for pname, spec in req.items():
                    if pname.startswith("__"):
                        continue
                    if isinstance(spec, list) and len(spec) == 1:
                        spec = spec[0]
                    aliases = spec.get("configuration_aliases", []) if isinstance(spec, dict) else []
                    if isinstance(aliases, list) and len(aliases) == 1 and isinstance(aliases[0], list):
                        aliases = aliases[0]
                    d.required_providers.setdefault(pname, set()).update(
                        provider_ref(a).partition(".")[2] for a in aliases)
        for kind in ("provider", "terraform", "check", "moved", "import"):
            for block in doc.get(kind, []):
                add_refs(d, block, at(f, text, kind), kind,
                         skip_keys=("backend", "required_providers"))
    return d


# ------------------------------------------------------------------ checks

def is_local_source(source: str) -> bool:
    return source.startswith("./") or source.startswith("../")


def check_providers(d: Directory, call: ModuleCall, m: Directory) -> list[str]:
    """The provider configurations of one call of a local module."""
    problems = []
    here = f"{call.file}: module {call.name}"
    passed = call.providers or {}
    for name, aliases in sorted(m.required_providers.items()):
        for alias in sorted(a for a in aliases if a):
            if f"{name}.{alias}" not in passed:
                problems.append(f"{here}: required provider configuration {name}.{alias} of "
                                f"{call.source} (configuration_aliases) is not passed in "
                                "providers")
        # A providers map replaces the inheritance of default configurations.
        if call.providers is not None and name not in passed:
            problems.append(f"{here}: providers does not pass {name!r}, which "
                            f"{call.source} requires (a providers map replaces inheritance)")
    for key, value in sorted(passed.items()):
        name, _, alias = key.partition(".")
        if name not in m.required_providers:
            problems.append(f"{here}: providers passes {key!r}, but {call.source} does not "
                            f"declare provider {name!r} in required_providers")
        elif alias and alias not in m.required_providers[name]:
            problems.append(f"{here}: providers passes {key!r}, but {alias!r} is not in the "
                            f"configuration_aliases of {name!r} in {call.source}")
        vname, _, valias = value.partition(".")
        if valias:
            ok = value in d.provider_configs or valias in d.required_providers.get(vname, ())
        else:
            ok = value in d.provider_configs or value in d.required_providers
        if not ok:
            problems.append(f"{here}: providers: {value!r} is not a provider configuration "
                            "of this directory (provider block, required_providers entry or "
                            "configuration alias)")
    return problems


def check(root: Path) -> tuple[list[str], str]:
    problems: list[str] = []
    dirs = sorted({p.parent for p in root.rglob("*.tf") if ".terraform" not in p.parts})
    loaded = {p.resolve(): load_directory(p, problems) for p in dirs}

    def module_dir(d: Directory, call: ModuleCall) -> Directory | None:
        target = (d.path / call.source).resolve()
        if target not in loaded:
            if not any(target.glob("*.tf")):
                return None
            loaded[target] = load_directory(target, problems)
        return loaded[target]

    n_refs = n_calls = 0
    for d in list(loaded.values()):
        for call in d.modules.values():
            n_calls += 1
            if not is_local_source(call.source):
                continue  # registry/git modules are not checked offline
            m = module_dir(d, call)
            if m is None:
                problems.append(f"{call.file}: module {call.name}: source {call.source!r} "
                                "is not a directory with .tf files")
                continue
            for arg in sorted(call.args - set(m.variables)):
                problems.append(f"{call.file}: module {call.name}: argument {arg!r} is not "
                                f"a variable of {call.source}")
            for var in sorted(v for v, has_default in m.variables.items()
                              if not has_default and v not in call.args):
                problems.append(f"{call.file}: module {call.name}: required variable "
                                f"{var!r} of {call.source} is not passed")
            problems.extend(check_providers(d, call, m))
        for ref in d.refs:
            n_refs += 1
            what = ".".join(ref.parts)
            if ref.kind == "var" and ref.parts[0] not in d.variables:
                problems.append(f"{ref.file}: {ref.where}: var.{what} is not declared")
            elif ref.kind == "local" and ref.parts[0] not in d.locals:
                problems.append(f"{ref.file}: {ref.where}: local.{what} is not declared")
            elif ref.kind == "module":
                call = d.modules.get(ref.parts[0])
                if call is None:
                    problems.append(f"{ref.file}: {ref.where}: module.{what}: no module "
                                    f"block {ref.parts[0]!r}")
                elif len(ref.parts) > 1 and is_local_source(call.source):
                    m = module_dir(d, call)
                    if m is not None and ref.parts[1] not in m.outputs:
                        problems.append(f"{ref.file}: {ref.where}: module.{what}: "
                                        f"{call.source} has no output {ref.parts[1]!r}")
            elif ref.kind == "resource" and ref.parts not in d.resources \
                    and ref.parts[0] not in d.dynamic_iterators:
                problems.append(f"{ref.file}: {ref.where}: {what} is not a resource "
                                "declared in this directory")
            elif ref.kind == "data" and ref.parts not in d.data:
                problems.append(f"{ref.file}: {ref.where}: data.{what} is not a data "
                                "source declared in this directory")
    n_files = sum(len(d.files) for d in loaded.values())
    summary = (f"check_terraform: {len(loaded)} directories, {n_files} files, "
               f"{n_calls} module calls, {n_refs} references: {len(problems)} problem(s)")
    return problems, summary


# --------------------------------------------------------------- self-test

SELF_TEST_TREE = {
    "modules/m/main.tf": '''
variable "name" { type = string }
variable "size" {
  type    = number
  default = 1
}
locals { tags = { Name = var.name } }
resource "aws_s3_bucket" "b" {
  count  = var.size
  bucket = "x-${var.name}-${local.tags.Name}"
  tags   = merge(local.tags, { for k, v in local.tags : k => v })
  dynamic "grant" {
    for_each = var.size > 0 ? [1] : []
    content { id = grant.value }
  }
}
data "aws_iam_policy_document" "p" {
  statement { resources = ["${aws_s3_bucket.b[0].arn}/*"] }
}
output "arn" { value = aws_s3_bucket.b[0].arn }
output "policy" { value = data.aws_iam_policy_document.p.json }
''',
    "modules/two/main.tf": '''
terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      configuration_aliases = [aws.east]
    }
    random = { source = "hashicorp/random" }
  }
}
resource "aws_s3_bucket" "here" {}
resource "aws_s3_bucket" "east" { provider = aws.east }
resource "random_id" "r" { byte_length = 4 }
''',
    "envs/e/main.tf": '''
terraform {
  required_providers {
    aws    = { source = "hashicorp/aws" }
    random = { source = "hashicorp/random" }
  }
}
provider "aws" { region = var.region }
provider "aws" {
  alias  = "east"
  region = "us-east-1"
}
variable "region" { default = "us-east-1" }
module "ok" {
  source = "../../modules/m"
  name   = "n-${var.region}"
}
module "two" {
  source = "../../modules/two"
  providers = {
    aws      = aws
    aws.east = aws.east
    random   = random
  }
}
output "arn" { value = module.ok.arn }
''',
}

# (file to add or replace, content, the problem expected, as a substring)
SELF_TEST_CASES = [
    ("envs/e/bad.tf", 'output "x" {\n  value = \n', "bad.tf: parse error"),
    ("envs/e/bad.tf", 'module "m2" {\n  source = "../../modules/nope"\n}\n',
     "source '../../modules/nope' is not a directory"),
    ("envs/e/bad.tf",
     'module "m2" {\n  source = "../../modules/m"\n  name = "a"\n  colour = 1\n}\n',
     "argument 'colour' is not a variable"),
    ("envs/e/bad.tf", 'module "m2" {\n  source = "../../modules/m"\n  size = 2\n}\n',
     "required variable 'name'"),
    ("envs/e/bad.tf", 'output "y" { value = "${join(",", [var.nope])}-x" }\n',
     "var.nope is not declared"),
    ("envs/e/bad.tf", 'output "y" { value = [local.nope] }\n', "local.nope is not declared"),
    ("envs/e/bad.tf", 'output "y" { value = module.ok.nope }\n', "has no output 'nope'"),
    ("envs/e/bad.tf", 'output "y" { value = module.other.arn }\n', "no module block 'other'"),
    ("envs/e/bad.tf", 'output "y" { value = "${aws_s3_bucket.b["k"].arn}" }\n',
     "aws_s3_bucket.b is not a resource"),
    ("envs/e/bad.tf", 'output "y" { value = data.aws_region.here.name }\n',
     "data.aws_region.here is not a data source"),
    # provider configurations
    ("envs/e/bad.tf", 'module "t2" {\n  source = "../../modules/two"\n}\n',
     "required provider configuration aws.east of ../../modules/two (configuration_aliases) "
     "is not passed"),
    ("envs/e/bad.tf", 'module "t2" {\n  source = "../../modules/two"\n  providers = {\n'
     '    aws = aws\n    aws.east = aws.east\n  }\n}\n',
     "providers does not pass 'random'"),
    ("envs/e/bad.tf", 'module "t2" {\n  source = "../../modules/two"\n  providers = {\n'
     '    aws = aws\n    aws.east = aws.east\n    random = random\n    tls = random\n'
     '  }\n}\n',
     "providers passes 'tls', but ../../modules/two does not declare provider 'tls'"),
    ("envs/e/bad.tf", 'module "t2" {\n  source = "../../modules/two"\n  providers = {\n'
     '    aws = aws\n    aws.east = aws.east\n    aws.west = aws.east\n    random = random\n'
     '  }\n}\n',
     "'west' is not in the configuration_aliases of 'aws'"),
    ("envs/e/bad.tf", 'module "t2" {\n  source = "../../modules/two"\n  providers = {\n'
     '    aws = aws\n    aws.east = aws.us_east\n    random = random\n  }\n}\n',
     "providers: 'aws.us_east' is not a provider configuration of this directory"),
]


def self_test() -> int:
    passed = failed = 0

    def run(extra: dict) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            for rel, text in {**SELF_TEST_TREE, **extra}.items():
                p = Path(tmp, rel)
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
            return check(Path(tmp))[0]

    clean = run({})
    if clean:
        failed += 1
        print("FAIL clean tree reported:", *clean, sep="\n  ")
    else:
        passed += 1
    for rel, text, expected in SELF_TEST_CASES:
        problems = run({rel: text})
        if len(problems) == 1 and expected in problems[0]:
            passed += 1
        else:
            failed += 1
            print(f"FAIL expected exactly one problem containing {expected!r}, got:",
                  *problems, sep="\n  ")
    print(f"self-test: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__)
        return 2
    root = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent.parent / "terraform"
    if not root.is_dir():
        print(f"check_terraform: {root} is not a directory")
        return 2
    problems, summary = check(root)
    for p in problems:
        print(p)
    print(summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
