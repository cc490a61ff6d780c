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
        function: "create-expense",
        authenticated: true,
        summary: "Record an expense",
    },
    Route {
        operation: Operation::ListExpenses,
        method: Method::GET,
        path: "/v1/expenses",
        function: "list-expenses",
        authenticated: true,
        summary: "List expenses, filtered, newest first, one page at a time",
    },
    Route {
        operation: Operation::GetExpense,
        method: Method::GET,
        path: "/v1/expenses/{id}",
        function: "get-expense",
        authenticated: true,
        summary: "Read one expense",
    },
    Route {
        operation: Operation::UpdateExpense,
        method: Method::PATCH,
        path: "/v1/expenses/{id}",
        function: "update-expense",
        authenticated: true,
        summary: "Change an expense with a JSON merge patch",
    },
    Route {
        operation: Operation::DeleteExpense,
        method: Method::DELETE,
        path: "/v1/expenses/{id}",
        function: "delete-expense",
        authenticated: true,
        summary: "Delete an expense",
    },
    Route {
        operation: Operation::ExportExpenses,
        method: Method::GET,
        path: "/v1/expenses/export",
        function: "export-expenses",
        authenticated: true,
        summary: "Export expenses as CSV, in parts of at most 900 KiB",
    },
    Route {
        operation: Operation::ImportExpenses,
        method: Method::POST,
        path: "/v1/expenses/import",
        function: "import-expenses",
        authenticated: true,
        summary: "Import expenses from CSV, all or nothing",
    },
    Route {
        operation: Operation::CreateCategory,
        method: Method::POST,
        path: "/v1/categories",
        function: "create-category",
        authenticated: true,
        summary: "Create a category",
    },
    Route {
        operation: Operation::ListCategories,
        method: Method::GET,
        path: "/v1/categories",
        function: "list-categories",
        authenticated: true,
        summary: "List categories by name",
    },
    Route {
        operation: Operation::GetCategory,
        method: Method::GET,
        path: "/v1/categories/{id}",
        function: "get-category",
        authenticated: true,
        summary: "Read one category",
    },
    Route {
        operation: Operation::UpdateCategory,
        method: Method::PATCH,
        path: "/v1/categories/{id}",
        function: "update-category",
        authenticated: true,
        summary: "Rename or recolour a category with a JSON merge patch",
    },
    Route {
        operation: Operation::DeleteCategory,
        method: Method::DELETE,
        path: "/v1/categories/{id}",
        function: "delete-category",
        authenticated: true,
        summary: "Delete a category: its expenses become uncategorised, its budget goes",
    },
    Route {
        operation: Operation::PutBudget,
        method: Method::PUT,
        path: "/v1/budgets/{category_id}",
        function: "put-budget",
        authenticated: true,
        summary: "Set a category's monthly budget",
    },
    Route {
        operation: Operation::DeleteBudget,
        method: Method::DELETE,
        path: "/v1/budgets/{category_id}",
        function: "delete-budget",
        authenticated: true,
        summary: "Remove a category's budget",
    },
    Route {
        operation: Operation::ListBudgets,
        method: Method::GET,
        path: "/v1/budgets",
        function: "list-budgets",
        authenticated: true,
        summary: "Budgets of a month with what was spent",
    },
    Route {
        operation: Operation::SummaryReport,
        method: Method::GET,
        path: "/v1/reports/summary",
        function: "summary-report",
        authenticated: true,
        summary: "Totals per category, month, tag or merchant, per currency",
    },
    Route {
        operation: Operation::CreateLedger,
        method: Method::POST,
        path: "/v1/ledgers",
        function: "create-ledger",
        authenticated: true,
        summary: "Create a shared ledger",
    },
    Route {
        operation: Operation::ListLedgers,
        method: Method::GET,
        path: "/v1/ledgers",
        function: "list-ledgers",
        authenticated: true,
        summary: "List the caller's ledgers, personal first",
    },
    Route {
        operation: Operation::GetLedger,
        method: Method::GET,
        path: "/v1/ledgers/{ledger_id}",
        function: "get-ledger",
        authenticated: true,
        summary: "Read one ledger",
    },
    Route {
        operation: Operation::UpdateLedger,
        method: Method::PATCH,
        path: "/v1/ledgers/{ledger_id}",
        function: "update-ledger",
        authenticated: true,
        summary: "Rename a ledger or change its home currency with a JSON merge patch",
    },
    Route {
        operation: Operation::DeleteLedger,
        method: Method::DELETE,
        path: "/v1/ledgers/{ledger_id}",
        function: "delete-ledger",
        authenticated: true,
        summary: "Delete a shared ledger and everything in it",
    },
    Route {
        operation: Operation::ListMembers,
        method: Method::GET,
        path: "/v1/ledgers/{ledger_id}/members",
        function: "list-members",
        authenticated: true,
        summary: "List a ledger's members",
    },
    Route {
        operation: Operation::UpdateMember,
        method: Method::PATCH,
        path: "/v1/ledgers/{ledger_id}/members/{user_id}",
        function: "update-member",
        authenticated: true,
        summary: "Change a member's role",
    },
    Route {
        operation: Operation::RemoveMember,
        method: Method::DELETE,
        path: "/v1/ledgers/{ledger_id}/members/{user_id}",
        function: "remove-member",
        authenticated: true,
        summary: "Remove a member, or leave a ledger",
    },
    Route {
        operation: Operation::CreateInvitation,
        method: Method::POST,
        path: "/v1/ledgers/{ledger_id}/invitations",
        function: "create-invitation",
        authenticated: true,
        summary: "Invite someone to a ledger: a single-use code",
    },
    Route {
        operation: Operation::ListInvitations,
        method: Method::GET,
        path: "/v1/ledgers/{ledger_id}/invitations",
        function: "list-invitations",
        authenticated: true,
        summary: "List a ledger's unused invitations",
    },
    Route {
        operation: Operation::RevokeInvitation,
        method: Method::DELETE,
        path: "/v1/ledgers/{ledger_id}/invitations/{invitation_id}",
        function: "revoke-invitation",
        authenticated: true,
        summary: "Revoke an invitation",
    },
    Route {
        operation: Operation::AcceptInvitation,
        method: Method::POST,
        path: "/v1/invitations/accept",
        function: "accept-invitation",
        authenticated: true,
        summary: "Join a ledger with an invitation code",
    },
    Route {
        operation: Operation::Health,
        method: Method::GET,
        path: "/health",
        function: "health",
        authenticated: false,
        summary: "Deep health check of the service and its dependencies",
    },
    Route {
        operation: Operation::OpenApi,
        method: Method::GET,
        path: "/openapi.json",
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

/// What the router made of a method and path.
#[derive(Debug)]
pub enum RouteMatch {
    Found {
        route: &'static Route,
        /// Values of the `{…}` segments, in order.
        params: Vec<String>,
    },
    /// The path exists, the method does not: the methods that do.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

/// The `{…}` values if `path` fits `template`.
fn match_path(template: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
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
    let fitting: Vec<(&'static Route, Vec<String>)> = ROUTES
        .iter()
        .filter_map(|r| match_path(r.path, path).map(|params| (r, params)))
        .collect();
    let Some(best) = fitting.iter().map(|(r, _)| literal_segments(r.path)).max() else {
        return RouteMatch::NotFound;
    };
    let mut allowed = Vec::new();
    for (route, params) in fitting {
        if literal_segments(route.path) != best {
            continue;
        }
        if route.method == method {
            return RouteMatch::Found { route, params };
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

/// `routes.json`: what Terraform and the SAM template build listener rules
/// and functions from. Rules are ordered so that literal paths
/// (`/v1/expenses/export`) come before the patterns they also match
/// (`/v1/expenses/*`): ALB evaluates the lowest priority number first.
pub fn routes_document() -> serde_json::Value {
    let mut ordered: Vec<&Route> = ROUTES.iter().collect();
    ordered.sort_by_key(|r| {
        (
            std::cmp::Reverse(literal_segments(r.path)),
            r.path,
            r.method.as_str(),
        )
    });
    let routes: Vec<serde_json::Value> = ordered
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({
                "function": r.function,
                "method": r.method.as_str(),
                "path": r.path,
                "alb_path_pattern": alb_path_pattern(r.path),
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

    #[test]
    fn routes_requests() {
        let found = |m: Method, p: &str| match route(&m, p) {
            RouteMatch::Found { route, params } => Some((route.operation, params)),
            _ => None,
        };
        assert_eq!(
            found(Method::GET, "/v1/expenses"),
            Some((Operation::ListExpenses, vec![]))
        );
        assert_eq!(
            found(Method::PATCH, "/v1/expenses/abc"),
            Some((Operation::UpdateExpense, vec!["abc".to_owned()]))
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
    fn routes_json_puts_literal_paths_first() {
        let doc = routes_document();
        let routes = doc["routes"].as_array().unwrap();
        assert_eq!(routes.len(), ROUTES.len());
        let priority_of = |function: &str| {
            routes.iter().find(|r| r["function"] == function).unwrap()["priority"]
                .as_u64()
                .unwrap()
        };
        assert!(priority_of("export-expenses") < priority_of("get-expense"));
        assert!(priority_of("import-expenses") < priority_of("update-expense"));
        let pattern = routes
            .iter()
            .find(|r| r["function"] == "get-expense")
            .unwrap();
        assert_eq!(pattern["alb_path_pattern"], "/v1/expenses/*");
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
