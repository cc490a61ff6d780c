#!/usr/bin/env python3
"""Checks that the SAM template routes exactly what routes.json says.

    python3 scripts/check_sam_routes.py [--template PATH] [--routes PATH]

SAM has no loops, so template.yaml spells out one function, target group,
invoke permission and listener rule per route. routes.json is generated from
the route table (shared/src/http/routes.rs); this script fails when the two
drift apart:

- the listener rules' (path pattern, method, priority) triples are exactly
  the routes' (pattern, method, priority) triples, one per pattern of
  alb_path_patterns;
- each rule forwards to a target group whose one target is the `live` alias
  of the function that routes.json names (a function is known by its
  Handler, which the one `bootstrap` binary reads as `_HANDLER`);
- every rule also requires the X-Origin-Verify header, and one header-only
  rule, after all the others, forwards to the fallback function;
- each target group has an invoke permission for the same alias, limited
  to that target group's ARN, which the target group depends on; its name
  fits in 32 characters at the longest NamePrefix;
- every route function, the fallback and the direct functions exist as
  AWS::Serverless::Function built with rust-cargolambda from the one
  binary `bootstrap`, with identical Metadata (so SAM builds it once), and
  no other function does; the direct functions are not behind the load
  balancer.

Exits 0 when everything agrees, 1 with the list of mismatches. Needs PyYAML.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
PERMISSION = "AWS::Lambda::Permission"
BUILD_METHOD = "rust-cargolambda"
BINARY = "bootstrap"  # the one Lambda binary (the lambda/ package)
ORIGIN_HEADER = "X-Origin-Verify"
ORIGIN_SECRET_PARAM = "OriginVerifySecret"
LISTENER_PARAM = "AlbListenerArn"
ELB_PRINCIPAL = "elasticloadbalancing.amazonaws.com"


class CfnLoader(yaml.SafeLoader):
    """A safe loader that reads CloudFormation's short tags (!Ref, !Sub,
    !GetAtt, ...) as the long forms ({"Ref": ...}, {"Fn::Sub": ...})."""


def _construct_cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_template(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ref_target(value: Any) -> str | None:
    """The logical ID that a Ref or GetAtt points at (`X.Alias` kept whole)."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            if isinstance(att, str):
                att = att.split(".", 1)
            if isinstance(att, list) and att and isinstance(att[0], str):
                return att[0]
    return None


def sub_text(value: Any) -> str | None:
    """The text of a plain string or of a !Sub without variables map."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        if isinstance(sub, str):
            return sub
        if isinstance(sub, list) and sub and isinstance(sub[0], str):
            return sub[0]
    return None


class Checker:
    def __init__(self, template: dict[str, Any], routes: dict[str, Any]):
        self.template = template
        self.routes = routes
        self.resources: dict[str, dict[str, Any]] = template.get("Resources") or {}
        self.errors: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {
            lid: r for lid, r in self.resources.items() if isinstance(r, dict) and r.get("Type") == type_name
        }

    # -- functions ---------------------------------------------------------

    def check_functions(self) -> dict[str, str]:
        """Checks the functions; returns logical ID -> function (handler) name."""
        route_fns = [r["function"] for r in self.routes["routes"]]
        expected = set(route_fns) | {self.routes["fallback_function"]} | set(self.routes["direct_functions"])
        global_fn = ((self.template.get("Globals") or {}).get("Function")) or {}

        names: dict[str, str] = {}
        first_metadata = None
        for lid, res in self.of_type(SERVERLESS_FUNCTION).items():
            metadata = res.get("Metadata") or {}
            props = res.get("Properties") or {}
            binary = (metadata.get("BuildProperties") or {}).get("Binary")
            if binary != BINARY:
                self.error(f"function {lid}: Metadata.BuildProperties.Binary is {binary!r}, not {BINARY!r}")
            if metadata.get("BuildMethod") != BUILD_METHOD:
                self.error(
                    f"function {lid}: Metadata.BuildMethod is "
                    f"{metadata.get('BuildMethod')!r}, not {BUILD_METHOD!r}"
                )
            # SAM builds once for functions whose build definitions
            # (Metadata included) are identical.
            if first_metadata is None:
                first_metadata = (lid, metadata)
            elif metadata != first_metadata[1]:
                self.error(f"function {lid}: Metadata differs from {first_metadata[0]}'s, so SAM would build it separately")
            handler = props.get("Handler")
            if not handler:
                self.error(f"function {lid}: no Handler naming its function")
                continue
            if handler in names.values():
                other = next(k for k, v in names.items() if v == handler)
                self.error(f"functions {other} and {lid} both have the handler {handler}")
            names[lid] = handler
            if handler not in expected:
                self.error(
                    f"function {lid} has the handler {handler!r}, which routes.json does not name "
                    "(not a route, the fallback or a direct function)"
                )
            code_uri = props.get("CodeUri", global_fn.get("CodeUri"))
            if code_uri is None:
                self.error(f"function {lid} ({handler}): no CodeUri (here or in Globals)")
            fn_name = sub_text(props.get("FunctionName"))
            if fn_name is not None and not fn_name.endswith(handler):
                self.error(
                    f"function {lid}: FunctionName {fn_name!r} does not end with its handler {handler!r}"
                )

        for name in sorted(expected - set(names.values())):
            kind = (
                "route function"
                if name in route_fns
                else "fallback function"
                if name == self.routes["fallback_function"]
                else "direct function"
            )
            self.error(
                f"{kind} {name!r} from routes.json has no AWS::Serverless::Function "
                f"with BuildProperties.Binary: {name}"
            )
        return names

    # -- target groups and permissions -------------------------------------

    def longest(self, text: str) -> int:
        """The longest that a !Sub text can become, each ${Param} at its MaxLength."""
        params = self.template.get("Parameters") or {}
        total, rest = 0, text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            total += len(before)
            total += int((params.get(name) or {}).get("MaxLength", len(name) + 3))
        return total + len(rest)

    def function_of(self, value: Any, fn_names: dict[str, str]) -> tuple[str | None, bool]:
        """(function name, whether it is the live alias) that a value points at."""
        target = ref_target(value)
        if target is None:
            return None, False
        is_alias = isinstance(value, dict) and "Ref" in value and target.endswith(".Alias")
        lid = target.removesuffix(".Alias")
        return fn_names.get(lid), is_alias

    def check_target_groups(self, fn_names: dict[str, str]) -> dict[str, str]:
        """Checks the target groups; returns logical ID -> function name."""
        permissions = {
            lid: r
            for lid, r in self.of_type(PERMISSION).items()
            if (r.get("Properties") or {}).get("Principal") == ELB_PRINCIPAL
        }
        targets: dict[str, str] = {}
        for lid, res in self.of_type(TARGET_GROUP).items():
            props = res.get("Properties") or {}
            if props.get("TargetType") != "lambda":
                self.error(f"target group {lid}: TargetType is {props.get('TargetType')!r}, not 'lambda'")
            tg_targets = as_list(props.get("Targets"))
            if len(tg_targets) != 1:
                self.error(
                    f"target group {lid}: {len(tg_targets)} targets; a Lambda target group has exactly one"
                )
                continue
            fn, is_alias = self.function_of(tg_targets[0].get("Id"), fn_names)
            if fn is None:
                self.error(f"target group {lid}: its target is not one of the template's functions")
                continue
            if not is_alias:
                self.error(
                    f"target group {lid}: target the live alias (!Ref <Function>.Alias), "
                    f"not the unqualified function {fn}"
                )
            targets[lid] = fn
            attrs = {
                a.get("Key"): str(a.get("Value")).lower() for a in as_list(props.get("TargetGroupAttributes"))
            }
            if attrs.get("lambda.multi_value_headers.enabled") != "true":
                self.error(f"target group {lid} ({fn}): lambda.multi_value_headers.enabled is not true")

            # The invoke permission for the same alias, limited to this
            # target group, created before the target is registered.
            matching = [
                p
                for p, pres in permissions.items()
                if self.function_of((pres.get("Properties") or {}).get("FunctionName"), fn_names)
                == (fn, is_alias)
            ]
            if not matching:
                self.error(
                    f"target group {lid} ({fn}): no AWS::Lambda::Permission for {ELB_PRINCIPAL} "
                    "on the same function alias"
                )
                continue
            depends = as_list(res.get("DependsOn"))
            if not any(p in depends for p in matching):
                self.error(
                    f"target group {lid} ({fn}): must DependsOn its invoke permission "
                    f"({', '.join(sorted(matching))}): the ALB checks it when registering the target"
                )
            tg_name = sub_text(props.get("Name"))
            if tg_name is not None and self.longest(tg_name) > 32:
                self.error(
                    f"target group {lid}: name {tg_name!r} can be {self.longest(tg_name)} characters "
                    "long; target group names have at most 32"
                )
            for p in matching:
                source = sub_text((self.resources[p].get("Properties") or {}).get("SourceArn"))
                if source is None:
                    self.error(f"permission {p} ({fn}): no SourceArn limiting it to the target group")
                elif tg_name is not None and not source.endswith(f":targetgroup/{tg_name}/*"):
                    self.error(
                        f"permission {p} ({fn}): SourceArn {source!r} is not target group "
                        f"{lid}'s ARN (targetgroup/{tg_name}/*)"
                    )
        return targets

    # -- listener rules ----------------------------------------------------

    def check_rules(self, tg_functions: dict[str, str]) -> None:
        route_rules: dict[tuple[Any, Any, int], tuple[str, str | None]] = {}
        fallback_rules: list[tuple[str, int, str | None]] = []
        priorities: dict[int, str] = {}

        for lid, res in self.of_type(LISTENER_RULE).items():
            props = res.get("Properties") or {}
            if ref_target(props.get("ListenerArn")) != LISTENER_PARAM:
                self.error(f"listener rule {lid}: ListenerArn is not !Ref {LISTENER_PARAM}")
            try:
                priority = int(props.get("Priority"))
            except (TypeError, ValueError):
                self.error(f"listener rule {lid}: Priority {props.get('Priority')!r} is not a number")
                continue
            if priority in priorities:
                self.error(f"listener rules {priorities[priority]} and {lid} share priority {priority}")
            priorities[priority] = lid

            paths: list[str] = []
            methods: list[str] = []
            header_ok = False
            for cond in as_list(props.get("Conditions")):
                field = cond.get("Field")
                if field == "path-pattern":
                    paths += as_list(
                        (cond.get("PathPatternConfig") or {}).get("Values") or cond.get("Values")
                    )
                elif field == "http-request-method":
                    methods += as_list((cond.get("HttpRequestMethodConfig") or {}).get("Values"))
                elif field == "http-header":
                    cfg = cond.get("HttpHeaderConfig") or {}
                    values = as_list(cfg.get("Values"))
                    header_ok = (
                        str(cfg.get("HttpHeaderName", "")).lower() == ORIGIN_HEADER.lower()
                        and len(values) == 1
                        and ref_target(values[0]) == ORIGIN_SECRET_PARAM
                    )
                else:
                    self.error(f"listener rule {lid}: unexpected condition field {field!r}")
            if not header_ok:
                self.error(
                    f"listener rule {lid}: no {ORIGIN_HEADER} header condition equal to "
                    f"!Ref {ORIGIN_SECRET_PARAM}"
                )

            forwards = [a for a in as_list(props.get("Actions")) if a.get("Type") == "forward"]
            tg = None
            if len(forwards) != 1:
                self.error(f"listener rule {lid}: {len(forwards)} forward actions, expected 1")
            else:
                action = forwards[0]
                arn = action.get("TargetGroupArn")
                if arn is None:
                    groups = as_list((action.get("ForwardConfig") or {}).get("TargetGroups"))
                    arn = groups[0].get("TargetGroupArn") if len(groups) == 1 else None
                tg = ref_target(arn)
                if tg not in tg_functions:
                    self.error(
                        f"listener rule {lid}: does not forward to one of the template's Lambda target groups"
                    )
                    tg = None
            fn = tg_functions.get(tg) if tg else None

            if not paths and not methods:
                fallback_rules.append((lid, priority, fn))
                continue
            if not paths or not methods:
                self.error(
                    f"listener rule {lid}: has a {'path' if paths else 'method'} condition "
                    f"but no {'method' if paths else 'path'} condition"
                )
            for path in paths or [None]:
                for method in methods or [None]:
                    key = (path, method, priority)
                    if key in route_rules:
                        self.error(f"listener rules {route_rules[key][0]} and {lid} both match {key}")
                    route_rules[key] = (lid, fn)

        expected = {
            (pattern, r["method"], int(r["priority"])): r["function"]
            for r in self.routes["routes"]
            for pattern in r["alb_path_patterns"]
        }
        for key in sorted(expected.keys() - route_rules.keys(), key=lambda k: k[2]):
            self.error(f"route {key[1]} {key[0]} (priority {key[2]}, {expected[key]}) has no listener rule")
        for key in sorted(route_rules.keys() - expected.keys(), key=lambda k: k[2] or 0):
            lid, _ = route_rules[key]
            self.error(
                f"listener rule {lid} matches {key[1]} {key[0]} at priority {key[2]}, "
                "which is no route in routes.json"
            )
        for key in sorted(expected.keys() & route_rules.keys(), key=lambda k: k[2]):
            lid, fn = route_rules[key]
            if fn is not None and fn != expected[key]:
                self.error(
                    f"listener rule {lid} ({key[1]} {key[0]}) forwards to {fn}, "
                    f"but routes.json says {expected[key]}"
                )

        fallback = self.routes["fallback_function"]
        if len(fallback_rules) != 1:
            self.error(f"{len(fallback_rules)} header-only (fallback) listener rules, expected 1")
        for lid, priority, fn in fallback_rules:
            if fn is not None and fn != fallback:
                self.error(f"fallback listener rule {lid} forwards to {fn}, not {fallback}")
            later = [p for p in priorities if p > priority]
            if later:
                self.error(
                    f"fallback listener rule {lid} (priority {priority}) must come after every "
                    f"other rule; priorities {sorted(later)} come later"
                )

        for direct in self.routes["direct_functions"]:
            behind = sorted(tg for tg, fn in tg_functions.items() if fn == direct)
            if behind:
                self.error(f"direct function {direct} is behind the load balancer ({', '.join(behind)})")

    def run(self) -> list[str]:
        fn_names = self.check_functions()
        tg_functions = self.check_target_groups(fn_names)
        self.check_rules(tg_functions)
        return self.errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default=os.path.join(ROOT, "template.yaml"))
    parser.add_argument("--routes", default=os.path.join(ROOT, "routes.json"))
    args = parser.parse_args()

    with open(args.routes, encoding="utf-8") as f:
        routes = json.load(f)
    template = load_template(args.template)
    errors = Checker(template, routes).run()
    if errors:
        print(f"{args.template} does not match {args.routes}:", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        print(f"{len(errors)} mismatch(es)", file=sys.stderr)
        return 1
    print(
        f"{os.path.basename(args.template)} matches {os.path.basename(args.routes)}: "
        f"{len(routes['routes'])} routes, fallback {routes['fallback_function']}, "
        f"direct functions {', '.join(routes['direct_functions'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
