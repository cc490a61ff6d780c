//! The route table: the single source of truth for the router, the OpenAPI
//! document, the Lambda functions and the `cargo lambda watch` router.

use http::Method;

/// Every operation of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateExpense,
    ListExpenses,
    GetExpense,
    UpdateExpense,
    DeleteExpense,
    ExportExpenses,
    ImportExpenses,
    CreateCategory,
    ListCategories,
    GetCategory,
    UpdateCategory,
    DeleteCategory,
    PutBudget,
    DeleteBudget,
    ListBudgets,
    SummaryReport,
    CreateLedger,
    ListLedgers,
    GetLedger,
    UpdateLedger,
    DeleteLedger,
    ListMembers,
    UpdateMember,
    RemoveMember,
    CreateInvitation,
    ListInvitations,
    RevokeInvitation,
    AcceptInvitation,
    Health,
    OpenApi,
}

/// One route: method + path template → operation, served by one function.
#[derive(Debug)]
pub struct Route {
    pub operation: Operation,
    pub method: Method,
    /// Path template; `{name}` matches one non-empty segment.
    pub path: &'static str,
    /// The same operation in a named ledger (`path` acts in the caller's
    /// personal ledger): `/v1/ledgers/{ledger_id}` + `path` after `/v1`.
    pub ledger_path: Option<&'static str>,
    /// The Lambda function (and binary) that serves it.
    pub function: &'static str,
    /// Whether a bearer token is required.
    pub authenticated: bool,
    pub summary: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route {
        operation: Operation::CreateExpense,
        method: Method::POST,
        path: "/v1/expenses",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses"),
        function: "create-expense",
        authenticated: true,
        summary: "Record an expense",
    },
    Route {
        operation: Operation::ListExpenses,
        method: Method::GET,
        path: "/v1/expenses",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses"),
        function: "list-expenses",
        authenticated: true,
        summary: "List expenses, filtered, newest first, one page at a time",
    },
    Route {
        operation: Operation::GetExpense,
        method: Method::GET,
        path: "/v1/expenses/{id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses/{id}"),
        function: "get-expense",
        authenticated: true,
        summary: "Read one expense",
    },
    Route {
        operation: Operation::UpdateExpense,
        method: Method::PATCH,
        path: "/v1/expenses/{id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses/{id}"),
        function: "update-expense",
        authenticated: true,
        summary: "Change an expense with a JSON merge patch",
    },
    Route {
        operation: Operation::DeleteExpense,
        method: Method::DELETE,
        path: "/v1/expenses/{id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses/{id}"),
        function: "delete-expense",
        authenticated: true,
        summary: "Delete an expense",
    },
    Route {
        operation: Operation::ExportExpenses,
        method: Method::GET,
        path: "/v1/expenses/export",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses/export"),
        function: "export-expenses",
        authenticated: true,
        summary: "Export expenses as CSV, in parts of at most 900 KiB",
    },
    Route {
        operation: Operation::ImportExpenses,
        method: Method::POST,
        path: "/v1/expenses/import",
        ledger_path: Some("/v1/ledgers/{ledger_id}/expenses/import"),
        function: "import-expenses",
        authenticated: true,
        summary: "Import expenses from CSV, all or nothing",
    },
    Route {
        operation: Operation::CreateCategory,
        method: Method::POST,
        path: "/v1/categories",
        ledger_path: Some("/v1/ledgers/{ledger_id}/categories"),
        function: "create-category",
        authenticated: true,
        summary: "Create a category",
    },
    Route {
        operation: Operation::ListCategories,
        method: Method::GET,
        path: "/v1/categories",
        ledger_path: Some("/v1/ledgers/{ledger_id}/categories"),
        function: "list-categories",
        authenticated: true,
        summary: "List categories by name",
    },
    Route {
        operation: Operation::GetCategory,
        method: Method::GET,
        path: "/v1/categories/{id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/categories/{id}"),
        function: "get-category",
        authenticated: true,
        summary: "Read one category",
    },
    Route {
        operation: Operation::UpdateCategory,
        method: Method::PATCH,
        path: "/v1/categories/{id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/categories/{id}"),
        function: "update-category",
        authenticated: true,
        summary: "Rename or recolour a category with a JSON merge patch",
    },
    Route {
        operation: Operation::DeleteCategory,
        method: Method::DELETE,
        path: "/v1/categories/{id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/categories/{id}"),
        function: "delete-category",
        authenticated: true,
        summary: "Delete a category: its expenses become uncategorised, its budget goes",
    },
    Route {
        operation: Operation::PutBudget,
        method: Method::PUT,
        path: "/v1/budgets/{category_id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/budgets/{category_id}"),
        function: "put-budget",
        authenticated: true,
        summary: "Set a category's monthly budget",
    },
    Route {
        operation: Operation::DeleteBudget,
        method: Method::DELETE,
        path: "/v1/budgets/{category_id}",
        ledger_path: Some("/v1/ledgers/{ledger_id}/budgets/{category_id}"),
        function: "delete-budget",
        authenticated: true,
        summary: "Remove a category's budget",
    },
    Route {
        operation: Operation::ListBudgets,
        method: Method::GET,
        path: "/v1/budgets",
        ledger_path: Some("/v1/ledgers/{ledger_id}/budgets"),
        function: "list-budgets",
        authenticated: true,
        summary: "Budgets of a month with what was spent",
    },
    Route {
        operation: Operation::SummaryReport,
        method: Method::GET,
        path: "/v1/reports/summary",
        ledger_path: Some("/v1/ledgers/{ledger_id}/reports/summary"),
        function: "summary-report",
        authenticated: true,
        summary: "Totals per category, month, tag or merchant, per currency",
    },
    Route {
        operation: Operation::CreateLedger,
        method: Method::POST,
        path: "/v1/ledgers",
        ledger_path: None,
        function: "create-ledger",
        authenticated: true,
        summary: "Create a shared ledger",
    },
    Route {
        operation: Operation::ListLedgers,
        method: Method::GET,
        path: "/v1/ledgers",
        ledger_path: None,
        function: "list-ledgers",
        authenticated: true,
        summary: "List the caller's ledgers, personal first",
    },
    Route {
        operation: Operation::GetLedger,
        method: Method::GET,
        path: "/v1/ledgers/{ledger_id}",
        ledger_path: None,
        function: "get-ledger",
        authenticated: true,
        summary: "Read one ledger",
    },
    Route {
        operation: Operation::UpdateLedger,
        method: Method::PATCH,
        path: "/v1/ledgers/{ledger_id}",
        ledger_path: None,
        function: "update-ledger",
        authenticated: true,
        summary: "Rename a ledger or change its home currency with a JSON merge patch",
    },
    Route {
        operation: Operation::DeleteLedger,
        method: Method::DELETE,
        path: "/v1/ledgers/{ledger_id}",
        ledger_path: None,
        function: "delete-ledger",
        authenticated: true,
        summary: "Delete a shared ledger and everything in it",
    },
    Route {
        operation: Operation::ListMembers,
        method: Method::GET,
        path: "/v1/ledgers/{ledger_id}/members",
        ledger_path: None,
        function: "list-members",
        authenticated: true,
        summary: "List a ledger's members",
    },
    Route {
        operation: Operation::UpdateMember,
        method: Method::PATCH,
        path: "/v1/ledgers/{ledger_id}/members/{user_id}",
        ledger_path: None,
        function: "update-member",
        authenticated: true,
        summary: "Change a member's role",
    },
    Route {
        operation: Operation::RemoveMember,
        method: Method::DELETE,
        path: "/v1/ledgers/{ledger_id}/members/{user_id}",
        ledger_path: None,
        function: "remove-member",
        authenticated: true,
        summary: "Remove a member, or leave a ledger",
    },
    Route {
        operation: Operation::CreateInvitation,
        method: Method::POST,
        path: "/v1/ledgers/{ledger_id}/invitations",
        ledger_path: None,
        function: "create-invitation",
        authenticated: true,
        summary: "Invite someone to a ledger: a single-use code",
    },
    Route {
        operation: Operation::ListInvitations,
        method: Method::GET,
        path: "/v1/ledgers/{ledger_id}/invitations",
        ledger_path: None,
        function: "list-invitations",
        authenticated: true,
        summary: "List a ledger's unused invitations",
    },
    Route {
        operation: Operation::RevokeInvitation,
        method: Method::DELETE,
        path: "/v1/ledgers/{ledger_id}/invitations/{invitation_id}",
        ledger_path: None,
        function: "revoke-invitation",
        authenticated: true,
        summary: "Revoke an invitation",
    },
    Route {
        operation: Operation::AcceptInvitation,
        method: Method::POST,
        path: "/v1/invitations/accept",
        ledger_path: None,
        function: "accept-invitation",
        authenticated: true,
        summary: "Join a ledger with an invitation code",
    },
    Route {
        operation: Operation::Health,
        method: Method::GET,
        path: "/health",
        ledger_path: None,
        function: "health",
        authenticated: false,
        summary: "Deep health check of the service and its dependencies",
    },
    Route {
        operation: Operation::OpenApi,
        method: Method::GET,
        path: "/openapi.json",
        ledger_path: None,
        function: "openapi",
        authenticated: false,
        summary: "This API's OpenAPI 3.1 document",
    },
];

/// Lambda functions that are not routes: the ALB's default action, the
/// migration runner and the scheduled purge of idempotency records.
pub const FALLBACK_FUNCTION: &str = "fallback";
pub const MIGRATE_FUNCTION: &str = "migrate";
pub const PURGE_FUNCTION: &str = "purge-idempotency";

impl Operation {
    pub fn route(self) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.operation == self)
            .expect("every operation has a route")
    }

    /// The operation served by the Lambda function `name`.
    pub fn for_function(name: &str) -> Option<Operation> {
        ROUTES
            .iter()
            .find(|r| r.function == name)
            .map(|r| r.operation)
    }
}

impl Route {
    /// Its path templates: `path`, then `ledger_path` if it has one.
    pub fn paths(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.path).chain(self.ledger_path)
    }
}

/// What the router made of a method and path.
#[derive(Debug)]
pub enum RouteMatch {
    Found {
        route: &'static Route,
        /// The template that matched (`route.path` or its `ledger_path`).
        template: &'static str,
        /// The `{ledger_id}` segment, on a path under `/v1/ledgers/{ledger_id}`.
        ledger: Option<String>,
        /// Values of the other `{…}` segments, in order.
        params: Vec<String>,
    },
    /// The path exists, the method does not: the methods that do.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

/// The segment that names a ledger.
const LEDGER_PARAM: &str = "{ledger_id}";

/// The `{ledger_id}` value and the other `{…}` values if `path` fits
/// `template`.
fn match_path(template: &str, path: &str) -> Option<(Option<String>, Vec<String>)> {
    let mut ledger = None;
    let mut params = Vec::new();
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some((ledger, params)),
            (Some(LEDGER_PARAM), Some(g)) if !g.is_empty() => ledger = Some(g.to_owned()),
            (Some(w), Some(g)) if w.starts_with('{') && !g.is_empty() => params.push(g.to_owned()),
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// How literal a template is: `/v1/expenses/export` beats `/v1/expenses/{id}`.
fn literal_segments(template: &str) -> usize {
    template.split('/').filter(|s| !s.starts_with('{')).count()
}

pub fn route(method: &Method, path: &str) -> RouteMatch {
    // Only the most literal templates that fit the path count: `export`
    // is never an expense id, whatever the method.
    let fitting: Vec<_> = ROUTES
        .iter()
        .flat_map(|r| r.paths().map(move |template| (r, template)))
        .filter_map(|(r, template)| match_path(template, path).map(|m| (r, template, m)))
        .collect();
    let Some(best) = fitting.iter().map(|(_, t, _)| literal_segments(t)).max() else {
        return RouteMatch::NotFound;
    };
    let mut allowed = Vec::new();
    for (route, template, (ledger, params)) in fitting {
        if literal_segments(template) != best {
            continue;
        }
        if route.method == method {
            return RouteMatch::Found {
                route,
                template,
                ledger,
                params,
            };
        }
        allowed.push(route.method.clone());
    }
    RouteMatch::MethodNotAllowed(allowed)
}

/// The ALB path pattern of a template: `{…}` segments become `*`.
pub fn alb_path_pattern(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "*"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What orders the rules: how literal a route's most literal template is,
/// then how many segments it has (`/v1/ledgers/*/expenses/*` must come
/// before `/v1/ledgers/*/expenses`, which also matches
/// `/v1/ledgers/a/expenses/expenses`).
fn rule_rank(route: &Route) -> (usize, usize) {
    route
        .paths()
        .map(|t| (literal_segments(t), t.split('/').count()))
        .max()
        .unwrap_or_default()
}

/// `routes.json`: what Terraform and the SAM template build listener rules
/// and functions from, one rule per route whose path condition carries
/// every template of the route (at most two values, so a rule stays within
/// ALB's five condition values with the method and the two origin-secret
/// values). Rules are ordered so that more literal paths
/// (`/v1/expenses/export`) come before the patterns that also match them
/// (`/v1/expenses/*`; an ALB `*` matches across `/`, so `/v1/ledgers/*`
/// would match every ledger-scoped path): ALB evaluates the lowest
/// priority number first.
pub fn routes_document() -> serde_json::Value {
    let mut ordered: Vec<&Route> = ROUTES.iter().collect();
    ordered.sort_by_key(|r| (std::cmp::Reverse(rule_rank(r)), r.path, r.method.as_str()));
    let routes: Vec<serde_json::Value> = ordered
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({
                "function": r.function,
                "method": r.method.as_str(),
                "paths": r.paths().collect::<Vec<_>>(),
                "alb_path_patterns": r.paths().map(alb_path_pattern).collect::<Vec<_>>(),
                "priority": 100 + 10 * i,
                "authenticated": r.authenticated,
            })
        })
        .collect();
    serde_json::json!({
        "routes": routes,
        "fallback_function": FALLBACK_FUNCTION,
        "direct_functions": [MIGRATE_FUNCTION, PURGE_FUNCTION],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: Method, path: &str) -> Option<(Operation, Option<String>, Vec<String>)> {
        match route(&method, path) {
            RouteMatch::Found {
                route,
                ledger,
                params,
                ..
            } => Some((route.operation, ledger, params)),
            _ => None,
        }
    }

    #[test]
    fn routes_requests() {
        assert_eq!(
            found(Method::GET, "/v1/expenses"),
            Some((Operation::ListExpenses, None, vec![]))
        );
        assert_eq!(
            found(Method::PATCH, "/v1/expenses/abc"),
            Some((Operation::UpdateExpense, None, vec!["abc".to_owned()]))
        );
        assert!(found(Method::GET, "/v1/expenses/").is_none());
        assert!(found(Method::GET, "/v1/expenses/a/b").is_none());
        assert!(matches!(
            route(&Method::GET, "/nowhere"),
            RouteMatch::NotFound
        ));
        match route(&Method::PUT, "/v1/expenses") {
            RouteMatch::MethodNotAllowed(allowed) => {
                assert_eq!(allowed, vec![Method::POST, Method::GET])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn routes_ledger_scoped_requests() {
        let ledger = Some("L".to_owned());
        assert_eq!(
            found(Method::PATCH, "/v1/ledgers/L/expenses/abc"),
            Some((
                Operation::UpdateExpense,
                ledger.clone(),
                vec!["abc".to_owned()]
            ))
        );
        assert_eq!(
            found(Method::GET, "/v1/ledgers/L/expenses/export"),
            Some((Operation::ExportExpenses, ledger.clone(), vec![]))
        );
        assert_eq!(
            found(Method::DELETE, "/v1/ledgers/L/members/U"),
            Some((
                Operation::RemoveMember,
                ledger.clone(),
                vec!["U".to_owned()]
            ))
        );
        assert_eq!(
            found(Method::GET, "/v1/ledgers/L"),
            Some((Operation::GetLedger, ledger, vec![]))
        );
        assert!(found(Method::GET, "/v1/ledgers//expenses").is_none());
        match route(&Method::PUT, "/v1/ledgers/L/expenses/export") {
            RouteMatch::MethodNotAllowed(allowed) => assert_eq!(allowed, vec![Method::GET]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_ledger_path_is_its_path_under_a_ledger() {
        for route in ROUTES {
            let expected = [
                "/v1/expenses",
                "/v1/categories",
                "/v1/budgets",
                "/v1/reports",
            ]
            .iter()
            .any(|p| route.path.starts_with(p))
            .then(|| format!("/v1/ledgers/{{ledger_id}}{}", &route.path[3..]));
            assert_eq!(route.ledger_path.map(str::to_owned), expected, "{route:?}");
        }
    }

    /// ALB's path-pattern match: `*` matches any run of characters, `/`
    /// included; `?` is not used here.
    fn alb_matches(pattern: &str, path: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == path,
            Some((head, rest)) => {
                let Some(after) = path.strip_prefix(head) else {
                    return false;
                };
                (0..=after.len())
                    .filter(|&i| after.is_char_boundary(i))
                    .any(|i| alb_matches(rest, &after[i..]))
            }
        }
    }

    #[test]
    fn the_load_balancer_sends_every_route_to_its_function() {
        let doc = routes_document();
        let rules = doc["routes"].as_array().unwrap();
        assert_eq!(rules.len(), ROUTES.len());
        // Sample values that are also literal segments elsewhere, the
        // hardest case for `*`.
        for sample in ["abc", "export", "members", "expenses"] {
            for r in ROUTES {
                for template in r.paths() {
                    let path = template
                        .split('/')
                        .map(|s| if s.starts_with('{') { sample } else { s })
                        .collect::<Vec<_>>()
                        .join("/");
                    // What the router makes of it is the operation the
                    // rule's function must serve.
                    let RouteMatch::Found { route: served, .. } = route(&r.method, &path) else {
                        continue;
                    };
                    let first = rules
                        .iter()
                        .find(|rule| {
                            rule["method"] == r.method.as_str()
                                && rule["alb_path_patterns"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .any(|p| alb_matches(p.as_str().unwrap(), &path))
                        })
                        .unwrap_or_else(|| panic!("no rule for {} {path}", r.method));
                    assert_eq!(first["function"], served.function, "{} {path}", r.method);
                }
            }
        }
    }

    #[test]
    fn a_rule_stays_within_five_condition_values() {
        let doc = routes_document();
        for rule in doc["routes"].as_array().unwrap() {
            // Path values + one method + two origin-secret header values.
            let paths = rule["alb_path_patterns"].as_array().unwrap().len();
            assert!(paths + 1 + 2 <= 5, "{rule}");
        }
    }

    #[test]
    fn every_operation_has_one_route_and_function() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert_ne!(a.operation, b.operation);
                assert_ne!(a.function, b.function);
                assert!(!(a.path == b.path && a.method == b.method));
            }
            assert_eq!(Operation::for_function(a.function), Some(a.operation));
        }
    }
}
