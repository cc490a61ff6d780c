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

/// Lambda functions that are not routes: the ALB's default action and
/// the migration runner.
pub const FALLBACK_FUNCTION: &str = "fallback";
pub const MIGRATE_FUNCTION: &str = "migrate";

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

pub fn route(method: &Method, path: &str) -> RouteMatch {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method == method {
                return RouteMatch::Found { route, params };
            }
            allowed.push(route.method.clone());
        }
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        RouteMatch::MethodNotAllowed(allowed)
    }
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
