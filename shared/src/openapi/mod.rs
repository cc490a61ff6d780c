//! The OpenAPI 3.1 document, derived from the code: every schema from the
//! type the server serialises or the body it parses (`ToSchema` derives,
//! with the computed patterns in [`schemas`]), every path and operation
//! from the route table. A field added to a view is in the document; a
//! body field the parser accepts and the document lacks fails a test.
//!
//! The paths are assembled as JSON rather than with utoipa's path model,
//! because that model cannot say that a response header is always sent
//! (`required`), which the document promises for `Location` and `ETag`.

pub mod schemas;

use serde_json::{json, Map, Value};
use utoipa::{OpenApi, ToSchema};

use crate::domain::budget::{BudgetInput, BudgetMonth, BudgetView};
use crate::domain::category::{CategoryList, CategoryPatch, CategoryView, NewCategory};
use crate::domain::expense::{ExpensePage, ExpensePatch, ExpenseView, NewExpense};
use crate::domain::filter::{DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_TEXT};
use crate::domain::ledger::{
    CreatedInvitation, InvitationCode, LedgerList, LedgerPatch, LedgerView, MemberPatch,
    MemberView, NewInvitation, NewLedger,
};
use crate::domain::money::{Currency, MAX_MAJOR_UNITS, SCALE_DIGITS};
use crate::domain::report::{SummaryView, DEFAULT_GROUP_LIMIT, MAX_GROUP_LIMIT};
use crate::handlers::csv::ImportResult;
use crate::handlers::ledgers::{InvitationList, MemberList};
use crate::handlers::ops::{Healthy, Unhealthy};
use crate::http::problem::Problem;
use crate::http::routes::{Operation, Route, ROUTES};
use schemas::{bound_pattern, DATE_PATTERN, MONTH_PATTERN};

/// Every component: the types named here, and every type they name.
#[derive(OpenApi)]
#[openapi(components(schemas(
    NewExpense,
    ExpensePatch,
    ExpenseView,
    ExpensePage,
    NewCategory,
    CategoryPatch,
    CategoryView,
    CategoryList,
    BudgetInput,
    BudgetView,
    BudgetMonth,
    SummaryView,
    ImportResult,
    NewLedger,
    LedgerPatch,
    LedgerView,
    LedgerList,
    MemberPatch,
    MemberView,
    MemberList,
    NewInvitation,
    CreatedInvitation,
    InvitationList,
    InvitationCode,
    Healthy,
    Unhealthy,
    Problem,
)))]
struct Components;

fn components() -> Value {
    let components = Components::openapi().components.unwrap_or_default();
    serde_json::to_value(components.schemas).unwrap_or_default()
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": schema_ref::<Problem>()}},
    })
}

/// A problem response that always carries `header`.
fn problem_with_header(description: &str, header: &str, about: &str) -> Value {
    let mut response = problem(description);
    response["headers"] =
        json!({header: {"required": true, "description": about, "schema": {"type": "string"}}});
    response
}

/// A reference to the component of `T`, by the name its derive gives it.
fn schema_ref<T: ToSchema>() -> Value {
    json!({"$ref": format!("#/components/schemas/{}", T::name())})
}

fn body_of<T: ToSchema>() -> Value {
    json!({"application/json": {"schema": schema_ref::<T>()}})
}

/// A 2xx answer with a JSON body of `T`.
fn ok<T: ToSchema>(description: &str) -> Value {
    json!({"description": description, "content": body_of::<T>()})
}

/// A JSON merge patch body (RFC 7396). The server takes it as
/// `application/merge-patch+json` or `application/json`; the document
/// offers one media type, because generators given two emit broken code
/// (openapi-python-client: a module that does not import).
fn merge_patch_body<T: ToSchema>() -> Value {
    json!({
        "required": true,
        "description": "A JSON merge patch (RFC 7396). Sent as application/json or application/merge-patch+json; both are accepted alike.",
        "content": body_of::<T>(),
    })
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"},
           "description": "An id the server made; any other value is 404."})
}

fn id_param() -> Value {
    path_param("id")
}

fn ledger_param() -> Value {
    json!({"name": "ledger_id", "in": "path", "required": true, "schema": {"type": "string"},
           "description": "A ledger of the caller's; any other value is 404, as for a ledger that does not exist."})
}

fn user_param() -> Value {
    json!({"name": "user_id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1},
           "description": "A member's user id (their token's `sub`), percent-encoded."})
}

/// The 404 of an operation in a ledger the caller is no member of.
fn not_a_member(responses: &mut Map<String, Value>) {
    responses.insert(
        "404".into(),
        problem("No such ledger for the caller (a malformed id, a deleted ledger or one they are no member of alike)"),
    );
}

/// The 403 of an operation the caller's role does not allow.
fn forbidden(responses: &mut Map<String, Value>) {
    responses.insert(
        "403".into(),
        problem("The caller's role does not allow this"),
    );
}

fn idempotency_param() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
           "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
           "description": "1-255 characters in U+0021-U+007E (else 400). For 24 hours the same key and body replays the first response (Idempotent-Replayed: true); another body is 422."})
}

fn if_match_param() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false,
           "schema": {"type": "string", "pattern": "^(\\*|\"[0-9]+\"([ \\t]*,[ \\t]*\"[0-9]+\")*)$"},
           "description": "`*` or the expense's ETags (\"<version>\", comma-separated); when none is the current version, or the value is malformed, the answer is 412."})
}

fn header(description: &str, required: bool) -> Value {
    json!({"required": required, "description": description, "schema": {"type": "string"}})
}

/// Headers of a response that may be a replay under an Idempotency-Key.
fn replayed_header() -> Value {
    json!({"required": false, "description": "`true` when this is the stored response of an earlier request with the same Idempotency-Key.",
           "schema": {"type": "string", "enum": ["true"]}})
}

/// The export's parameters: the list filters, without `limit`, and a
/// `cursor` that comes from the previous part's `Link` header.
fn export_params() -> Vec<Value> {
    let mut params: Vec<Value> = list_params()
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|p| p["name"] != "limit")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for param in &mut params {
        if param["name"] == "cursor" {
            param["description"] = json!("The cursor of the previous part's `Link: <…>; rel=\"next\"` URL, unchanged (follow that URL rather than building one); anything else is 400.");
        }
    }
    params
}

fn date_query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN}})
}

fn list_params() -> Value {
    let query = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description});
    let bound = json!({"type": "string", "pattern": bound_pattern()});
    json!([
        date_query("from", "Earliest date (1000-01-01 to 9999-12-31), inclusive."),
        date_query("to", "Latest date, inclusive; not before from (else 400)."),
        query(
            "category_id",
            json!({"type": "string"}),
            "A category id, or `none` for uncategorised expenses; an unknown id matches nothing. Indexed (when tag is not also given): a page costs the same however deep."
        ),
        query(
            "tag",
            json!({"type": "string"}),
            "Expenses carrying this tag (trimmed); an unknown tag matches nothing. Indexed (it takes precedence over category_id and currency, which are then checked on the tag's expenses): a page costs the same however deep."
        ),
        query(
            "currency",
            schema_ref::<Currency>(),
            "Expenses in this currency. Indexed (when neither tag nor category_id is also given): a page costs the same however deep."
        ),
        query(
            "min_amount",
            bound.clone(),
            &format!("Smallest amount, inclusive, 0 to {MAX_MAJOR_UNITS} with at most {SCALE_DIGITS} decimals, compared as a number whatever the currency."),
        ),
        query(
            "max_amount",
            bound,
            "Largest amount, inclusive; not below min_amount (else 400). Amount bounds are not indexed: a page scans until it is full, so its cost grows as matches get rarer."
        ),
        query(
            "q",
            json!({"type": "string", "maxLength": MAX_QUERY_TEXT, "pattern": "^[^\\u0000]*$"}),
            "Case-insensitive substring of merchant or description. Not indexed: a page scans until it is full, so its cost grows as matches get rarer."
        ),
        query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
            "Page size."
        ),
        query(
            "cursor",
            json!({"type": "string"}),
            "The next_cursor of the previous page, unchanged; anything else is 400."
        ),
    ])
}

/// What an operation does, beyond its one-line summary (API.md in short).
fn description(operation: Operation) -> &'static str {
    match operation {
        Operation::CreateExpense => "Stores a new expense (version 1). With an Idempotency-Key, a retry of the same body within 24 hours replays the first answer instead of storing it again.",
        Operation::ListExpenses => "The caller's expenses matching every filter given, newest date first (ties by id, newest first), one page of at most `limit`; pass `next_cursor` as `cursor` for the next page.",
        Operation::GetExpense => "One of the caller's expenses, with its version as the ETag.",
        Operation::UpdateExpense => "Applies a JSON merge patch to one expense and bumps its version. With If-Match, only when the expense is still at one of the given versions (else 412).",
        Operation::DeleteExpense => "Deletes one expense. With If-Match, only when it is still at one of the given versions (else 412).",
        Operation::ExportExpenses => "The caller's expenses matching the filters as CSV, in parts of at most 900 KiB; a `Link` header with rel=\"next\" names the next part.",
        Operation::ImportExpenses => "Stores every row of a CSV body (the export's format), creating the categories it names, or nothing when any row is bad (each bad row is named with its line).",
        Operation::CreateCategory => "Creates a category; names are unique in a ledger ignoring case. With an Idempotency-Key, a retry of the same body within 24 hours replays the first answer.",
        Operation::ListCategories => "Every category of the caller, by lower-cased name.",
        Operation::GetCategory => "One of the caller's categories.",
        Operation::UpdateCategory => "Applies a JSON merge patch to one category (its name stays unique ignoring case).",
        Operation::DeleteCategory => "Deletes one category: its expenses become uncategorised and its budget is removed.",
        Operation::PutBudget => "Sets the monthly budget of one category, replacing any earlier one.",
        Operation::DeleteBudget => "Removes the monthly budget of one category.",
        Operation::ListBudgets => "Every budget with what was spent in its category during one month, in the budget's currency, and what remains.",
        Operation::SummaryReport => "Totals and counts of the caller's expenses per key (category, month, tag or merchant) and currency, between two optional dates, a page of groups at a time.",
        Operation::Health => "Whether the server can serve: the database must answer; the cache may be unavailable (the API then works without it).",
        Operation::OpenApi => "This OpenAPI 3.1 document.",
        Operation::CreateLedger => "Creates a shared ledger; the caller is its owner. With an Idempotency-Key, a retry of the same body within 24 hours replays the first answer.",
        Operation::ListLedgers => "The caller's ledgers: their personal ledger first (made on first use), then by lower-cased name, then id.",
        Operation::GetLedger => "One ledger the caller is a member of, with their role.",
        Operation::UpdateLedger => "Applies a JSON merge patch to a ledger's name and home currency (owners only).",
        Operation::DeleteLedger => "Deletes a shared ledger for every member at once (owners only); its data is purged afterwards. A personal ledger cannot be deleted (409).",
        Operation::ListMembers => "Every member of the ledger, by when they joined, then user id.",
        Operation::UpdateMember => "Gives a member another role (owners only). A ledger keeps at least one owner, and a user's own membership of their personal ledger never changes (409).",
        Operation::RemoveMember => "Removes a member (owners only), or lets any member leave. A ledger keeps at least one owner, and a user's own membership of their personal ledger never changes (409).",
        Operation::CreateInvitation => "Makes a single-use code, valid 7 days, that joins its user to the ledger with the given role (owners only). The code is shown only in this answer.",
        Operation::ListInvitations => "The ledger's unused, unexpired, unrevoked invitations, without their codes (owners only).",
        Operation::RevokeInvitation => "Revokes an unused invitation (owners only).",
        Operation::AcceptInvitation => "Joins the caller to the invitation's ledger with its role. An unknown, used, revoked or expired code is 404, except that the user who used it gets 200 again; a member by other means gets 409 and the code stays unused.",
    }
}

fn operation(route: &Route) -> Value {
    let mut responses = Map::new();
    let mut op = json!({
        "operationId": route.function,
        "summary": route.summary,
        "description": description(route.operation),
    });
    // Whether the operation reads a body, query parameters or an
    // Idempotency-Key: only those can be malformed (400).
    let mut reads_input = true;
    match route.operation {
        Operation::CreateExpense => {
            op["parameters"] = json!([idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": body_of::<NewExpense>()});
            responses.insert("201".into(), {
                let mut r = ok::<ExpenseView>("Created");
                r["headers"] = json!({
                    "Location": header("/v1/expenses/{id} of the new expense (under /v1/ledgers/{ledger_id} when the request was)", true),
                    "ETag": header("\"1\"", true),
                    "Idempotent-Replayed": replayed_header(),
                });
                r
            });
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert(
                "422".into(),
                problem("Invalid fields, or an Idempotency-Key used with another body"),
            );
        }
        Operation::ListExpenses => {
            op["parameters"] = list_params();
            responses.insert("200".into(), ok::<ExpensePage>("One page"));
        }
        Operation::GetExpense => {
            op["parameters"] = json!([id_param()]);
            let mut r = ok::<ExpenseView>("The expense");
            r["headers"] = json!({"ETag": header("\"<version>\"", true)});
            responses.insert("200".into(), r);
            responses.insert("404".into(), problem("No such expense"));
            reads_input = false;
        }
        Operation::UpdateExpense => {
            op["parameters"] = json!([id_param(), if_match_param()]);
            op["requestBody"] = merge_patch_body::<ExpensePatch>();
            let mut r = ok::<ExpenseView>("Updated");
            r["headers"] = json!({"ETag": header("\"<version>\" of the new version", true)});
            responses.insert("200".into(), r);
            responses.insert("404".into(), problem("No such expense"));
            responses.insert("412".into(), problem("Stale If-Match"));
            responses.insert("415".into(), problem("Not JSON"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::DeleteExpense => {
            op["parameters"] = json!([id_param(), if_match_param()]);
            responses.insert("204".into(), json!({"description": "Deleted"}));
            responses.insert("404".into(), problem("No such expense"));
            responses.insert("412".into(), problem("Stale If-Match"));
            reads_input = false;
        }
        Operation::ExportExpenses => {
            op["parameters"] = Value::Array(export_params());
            responses.insert("200".into(), json!({
                "description": "A CSV part (RFC 4180, UTF-8, header row, at most 900 KiB); a `Link: <…>; rel=\"next\"` header names the next part.",
                "headers": {
                    "Link": header("`</v1/expenses/export?…&cursor=…>; rel=\"next\"` when more parts follow", false),
                    "Content-Disposition": header("attachment", true),
                },
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }));
        }
        Operation::ImportExpenses => {
            op["parameters"] = json!([idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"},
                "example": "date,amount,currency,category,merchant,description,tags\r\n2026-11-28,12.30,USD,Food,Corner Café,Lunch,team;lunch\r\n"}}});
            responses.insert("201".into(), {
                let mut r = ok::<ImportResult>("Every row stored");
                r["headers"] = json!({"Idempotent-Replayed": replayed_header()});
                r
            });
            responses.insert(
                "409".into(),
                problem("Categories it creates kept changing concurrently; retry"),
            );
            responses.insert("415".into(), problem("Not text/csv"));
            responses.insert(
                "422".into(),
                problem("Bad rows (each with its line) or unparseable CSV, nothing stored; or an Idempotency-Key used with another body"),
            );
        }
        Operation::CreateCategory => {
            op["parameters"] = json!([idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": body_of::<NewCategory>()});
            responses.insert("201".into(), {
                let mut r = ok::<CategoryView>("Created");
                r["headers"] = json!({
                    "Location": header("/v1/categories/{id} of the new category (under /v1/ledgers/{ledger_id} when the request was)", true),
                    "Idempotent-Replayed": replayed_header(),
                });
                r
            });
            responses.insert("409".into(), problem("The name is taken (ignoring case)"));
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert(
                "422".into(),
                problem("Invalid fields, or an Idempotency-Key used with another body"),
            );
        }
        Operation::ListCategories => {
            responses.insert("200".into(), ok::<CategoryList>("By lower-cased name"));
            reads_input = false;
        }
        Operation::GetCategory => {
            op["parameters"] = json!([id_param()]);
            responses.insert("200".into(), ok::<CategoryView>("The category"));
            responses.insert("404".into(), problem("No such category"));
            reads_input = false;
        }
        Operation::UpdateCategory => {
            op["parameters"] = json!([id_param()]);
            op["requestBody"] = merge_patch_body::<CategoryPatch>();
            responses.insert("200".into(), ok::<CategoryView>("Updated"));
            responses.insert("404".into(), problem("No such category"));
            responses.insert("409".into(), problem("The name is taken (ignoring case)"));
            responses.insert("415".into(), problem("Not JSON"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::DeleteCategory => {
            op["parameters"] = json!([id_param()]);
            responses.insert("204".into(), json!({"description": "Deleted; its expenses are uncategorised, its budget removed"}));
            responses.insert("404".into(), problem("No such category"));
            reads_input = false;
        }
        Operation::PutBudget => {
            op["parameters"] = json!([path_param("category_id")]);
            op["requestBody"] = json!({"required": true, "content": body_of::<BudgetInput>()});
            responses.insert("200".into(), ok::<BudgetView>("Created or replaced"));
            responses.insert("404".into(), problem("No such category"));
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::DeleteBudget => {
            op["parameters"] = json!([path_param("category_id")]);
            responses.insert("204".into(), json!({"description": "Removed"}));
            responses.insert("404".into(), problem("No budget for this category"));
            reads_input = false;
        }
        Operation::ListBudgets => {
            op["parameters"] = json!([{"name": "month", "in": "query", "required": false,
                "schema": {"type": "string", "pattern": MONTH_PATTERN},
                "description": "YYYY-MM, years 1000 to 9999; default: the current UTC month."}]);
            responses.insert("200".into(), ok::<BudgetMonth>("Budgets with spending"));
        }
        Operation::SummaryReport => {
            op["parameters"] = json!([
                date_query("from", "Earliest date, inclusive; unbounded when absent."),
                date_query("to", "Latest date, inclusive; not before from (else 400); unbounded when absent."),
                {"name": "group_by", "in": "query", "required": false,
                 "schema": {"type": "string", "enum": ["category", "month", "tag", "merchant"], "default": "category"}},
                {"name": "limit", "in": "query", "required": false,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_GROUP_LIMIT, "default": DEFAULT_GROUP_LIMIT},
                 "description": "Most groups in one answer."},
                {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"},
                 "description": "The next_cursor of the previous answer for the same group_by, unchanged; anything else is 400."},
            ]);
            responses.insert(
                "200".into(),
                ok::<SummaryView>("Totals per key and currency"),
            );
        }
        Operation::Health => {
            responses.insert("200".into(), ok::<Healthy>("Healthy"));
            responses.insert(
                "503".into(),
                json!({
                    "description": "The database is unreachable, or the server is draining",
                    "headers": {"Retry-After": header("Seconds to wait", true)},
                    "content": {"application/problem+json": {"schema": schema_ref::<Unhealthy>()}},
                }),
            );
            reads_input = false;
        }
        Operation::OpenApi => {
            responses.insert(
                "200".into(),
                json!({"description": "This document", "content": {"application/json": {"schema": {"type": "object"}}}}),
            );
            reads_input = false;
        }
        Operation::CreateLedger => {
            op["parameters"] = json!([idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": body_of::<NewLedger>()});
            responses.insert("201".into(), {
                let mut r = ok::<LedgerView>("Created");
                r["headers"] = json!({
                    "Location": header("/v1/ledgers/{ledger_id} of the new ledger", true),
                    "Idempotent-Replayed": replayed_header(),
                });
                r
            });
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert(
                "422".into(),
                problem("Invalid fields, or an Idempotency-Key used with another body"),
            );
        }
        Operation::ListLedgers => {
            responses.insert(
                "200".into(),
                ok::<LedgerList>("Personal first, then by name"),
            );
            reads_input = false;
        }
        Operation::GetLedger => {
            op["parameters"] = json!([ledger_param()]);
            responses.insert("200".into(), ok::<LedgerView>("The ledger"));
            not_a_member(&mut responses);
            reads_input = false;
        }
        Operation::UpdateLedger => {
            op["parameters"] = json!([ledger_param()]);
            op["requestBody"] = merge_patch_body::<LedgerPatch>();
            responses.insert("200".into(), ok::<LedgerView>("Updated"));
            not_a_member(&mut responses);
            forbidden(&mut responses);
            responses.insert("415".into(), problem("Not JSON"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::DeleteLedger => {
            op["parameters"] = json!([ledger_param()]);
            responses.insert(
                "204".into(),
                json!({"description": "Deleted for every member"}),
            );
            not_a_member(&mut responses);
            forbidden(&mut responses);
            responses.insert("409".into(), problem("A personal ledger cannot be deleted"));
            reads_input = false;
        }
        Operation::ListMembers => {
            op["parameters"] = json!([ledger_param()]);
            responses.insert("200".into(), ok::<MemberList>("By joined_at, then user_id"));
            not_a_member(&mut responses);
            reads_input = false;
        }
        Operation::UpdateMember => {
            op["parameters"] = json!([ledger_param(), user_param()]);
            op["requestBody"] = merge_patch_body::<MemberPatch>();
            responses.insert("200".into(), ok::<MemberView>("Updated"));
            responses.insert(
                "404".into(),
                problem("No such ledger for the caller, or no such member"),
            );
            forbidden(&mut responses);
            responses.insert(
                "409".into(),
                problem("The ledger would have no owner, or the member's own personal ledger"),
            );
            responses.insert("415".into(), problem("Not JSON"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::RemoveMember => {
            op["parameters"] = json!([ledger_param(), user_param()]);
            responses.insert("204".into(), json!({"description": "Removed"}));
            responses.insert(
                "404".into(),
                problem("No such ledger for the caller, or no such member"),
            );
            forbidden(&mut responses);
            responses.insert(
                "409".into(),
                problem("The ledger would have no owner, or the member's own personal ledger"),
            );
            reads_input = false;
        }
        Operation::CreateInvitation => {
            op["parameters"] = json!([ledger_param(), idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": body_of::<NewInvitation>()});
            responses.insert("201".into(), {
                let mut r = ok::<CreatedInvitation>("Created; the code is shown only here (and in a replay under the same Idempotency-Key)");
                r["headers"] = json!({"Idempotent-Replayed": replayed_header()});
                r
            });
            not_a_member(&mut responses);
            forbidden(&mut responses);
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert(
                "422".into(),
                problem("Invalid fields, or an Idempotency-Key used with another body"),
            );
        }
        Operation::ListInvitations => {
            op["parameters"] = json!([ledger_param()]);
            responses.insert(
                "200".into(),
                ok::<InvitationList>("Unused invitations, oldest first"),
            );
            not_a_member(&mut responses);
            forbidden(&mut responses);
            reads_input = false;
        }
        Operation::RevokeInvitation => {
            op["parameters"] = json!([ledger_param(), path_param("invitation_id")]);
            responses.insert("204".into(), json!({"description": "Revoked"}));
            responses.insert(
                "404".into(),
                problem("No such ledger for the caller, or no such unused invitation"),
            );
            forbidden(&mut responses);
            reads_input = false;
        }
        Operation::AcceptInvitation => {
            op["requestBody"] = json!({"required": true, "content": body_of::<InvitationCode>()});
            responses.insert("200".into(), ok::<LedgerView>("The ledger joined"));
            responses.insert(
                "404".into(),
                problem("Unknown, used, revoked or expired code"),
            );
            responses.insert(
                "409".into(),
                problem("Already a member; the code stays unused"),
            );
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
    }
    // Every route refuses a body over the limit before anything else.
    responses.insert("413".into(), problem("Body over 1 MiB"));
    op["tags"] = json!([tag_of(route.path)]);
    // Public operations say so (an empty requirement), so that tools do not
    // fall back to a document-wide default.
    op["security"] = json!([]);
    if route.authenticated {
        op["security"] = json!([{"bearer": []}]);
        if reads_input {
            responses.insert(
                "400".into(),
                problem("Malformed JSON, query parameter or Idempotency-Key"),
            );
        }
        responses.insert(
            "401".into(),
            problem_with_header("Missing or invalid token", "WWW-Authenticate", "`Bearer`"),
        );
        responses.insert(
            "503".into(),
            problem_with_header(
                "Database unavailable; retry",
                "Retry-After",
                "Seconds to wait",
            ),
        );
    }
    op["responses"] = Value::Object(responses);
    op
}

/// The groups operations are listed under, by the path's first segment
/// after `/v1`.
const TAGS: [(&str, &str); 6] = [
    (
        "expenses",
        "Expenses: record, list, change, export and import",
    ),
    ("categories", "Categories of expenses"),
    ("budgets", "Monthly budgets per category"),
    ("reports", "Totals"),
    ("ledgers", "Shared ledgers, their members and invitations"),
    ("service", "Health and this document"),
];

fn tag_of(path: &str) -> &'static str {
    let group = match path
        .strip_prefix("/v1/")
        .and_then(|rest| rest.split('/').next())
    {
        // Accepting an invitation joins a ledger.
        Some("invitations") => Some("ledgers"),
        group => group,
    };
    TAGS.iter()
        .map(|(name, _)| *name)
        .find(|name| Some(*name) == group)
        .unwrap_or("service")
}

/// The operationId of a route's form under `/v1/ledgers/{ledger_id}`.
pub fn ledger_operation_id(route: &Route) -> String {
    format!("{}-in-ledger", route.function)
}

/// A route's operation in a named ledger: the same, with the ledger's id
/// first, its 404 and the 403 of a role that does not allow it.
fn in_ledger(route: &Route) -> Value {
    let mut op = operation(route);
    op["operationId"] = json!(ledger_operation_id(route));
    let role = if route.method == http::Method::GET {
        "any member"
    } else {
        "editors and owners"
    };
    let description = op["description"].as_str().unwrap_or_default().to_owned();
    op["description"] = json!(format!(
        "{description} In the ledger `ledger_id` ({role}); the same as the route without it does in the caller's personal ledger."
    ));
    let mut parameters = vec![ledger_param()];
    if let Some(own) = op["parameters"].as_array() {
        parameters.extend(own.iter().cloned());
    }
    op["parameters"] = Value::Array(parameters);
    let responses = op["responses"].as_object_mut().expect("responses");
    match responses.get("404").and_then(|r| r["description"].as_str()) {
        Some(missing) => {
            let both = format!("No such ledger for the caller, or: {missing}");
            responses["404"]["description"] = json!(both);
        }
        None => not_a_member(responses),
    }
    forbidden(responses);
    op
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let method = route.method.as_str().to_ascii_lowercase();
        paths.entry(route.path).or_insert_with(|| json!({}))[&method] = operation(route);
        if let Some(ledger_path) = route.ledger_path {
            paths.entry(ledger_path).or_insert_with(|| json!({}))[&method] = in_ledger(route);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            "title": "Expense Tracker API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Record expenses, organise them, and read summaries. Money is a decimal string in integer minor units; errors are RFC 9457 problem+json.",
        },
        // Relative: the API is served wherever this document is.
        "servers": [{"url": "/", "description": "The host serving this document"}],
        "tags": TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::schemas::{
        amount_pattern, bound_pattern, currencies_by_decimals, trimmed_text_pattern,
    };
    use super::*;
    use crate::domain::fields::{MAX_MERCHANT, MAX_TAG_LEN};
    use crate::domain::report::GroupBy;

    fn component<'a>(doc: &'a Value, name: &str) -> &'a Map<String, Value> {
        doc["components"]["schemas"][name]
            .as_object()
            .unwrap_or_else(|| panic!("no component {name}"))
    }

    fn property_names(schema: &Map<String, Value>) -> Vec<String> {
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn sorted(fields: &[&str]) -> Vec<String> {
        let mut fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        fields.sort();
        fields
    }

    /// The bodies are described by their own types, and the parsers read
    /// their own field lists: the two must name the same fields.
    #[test]
    fn bodies_name_exactly_the_fields_the_parsers_accept() {
        use crate::domain::{budget, category, expense, ledger};
        let doc = document();
        for (schema, fields) in [
            ("NewExpense", &expense::WRITABLE_FIELDS[..]),
            ("ExpensePatch", &expense::WRITABLE_FIELDS[..]),
            ("NewCategory", &category::WRITABLE_FIELDS[..]),
            ("CategoryPatch", &category::WRITABLE_FIELDS[..]),
            ("BudgetInput", &budget::WRITABLE_FIELDS[..]),
            ("NewLedger", &ledger::WRITABLE_FIELDS[..]),
            ("LedgerPatch", &ledger::WRITABLE_FIELDS[..]),
            ("MemberPatch", &["role"][..]),
            ("NewInvitation", &["role"][..]),
            ("InvitationCode", &["code"][..]),
        ] {
            let body = component(&doc, schema);
            assert_eq!(property_names(body), sorted(fields), "{schema}");
            assert_eq!(body["additionalProperties"], false, "{schema}");
        }
        assert_eq!(
            component(&doc, "NewExpense")["required"],
            json!(["amount", "currency", "date"])
        );
        assert_eq!(component(&doc, "NewCategory")["required"], json!(["name"]));
        assert_eq!(
            component(&doc, "BudgetInput")["required"],
            json!(["amount", "currency"])
        );
        for patch in ["ExpensePatch", "CategoryPatch", "LedgerPatch"] {
            assert!(!component(&doc, patch).contains_key("required"), "{patch}");
        }
    }

    /// What the server writes has exactly the documented members, every
    /// one of them required (null where the schema allows it).
    #[test]
    fn views_serialise_exactly_their_schemas() {
        use crate::domain::category::Category;
        use crate::domain::expense::{Expense, ExpenseFields};
        use crate::domain::money::Money;
        let doc = document();
        let expense = Expense {
            id: crate::domain::new_id(),
            fields: ExpenseFields {
                money: Money::parse("12.30", Currency::parse("USD").unwrap()).unwrap(),
                date: time::macros::date!(2026 - 01 - 02),
                category_id: None,
                merchant: None,
                description: None,
                tags: vec![],
            },
            version: 1,
            created_at: 0,
            updated_at: 0,
            created_by: "alice".into(),
            updated_by: "alice".into(),
        };
        let category = Category {
            id: crate::domain::new_id(),
            name: "Food".into(),
            color: None,
            created_at: 0,
            updated_at: 0,
        };
        for (schema, value) in [
            ("Expense", serde_json::to_value(expense.view()).unwrap()),
            ("Category", serde_json::to_value(category.view()).unwrap()),
        ] {
            let schema = component(&doc, schema);
            let mut written: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            written.sort();
            assert_eq!(written, property_names(schema));
            let mut required: Vec<String> =
                serde_json::from_value(schema["required"].clone()).unwrap();
            required.sort();
            assert_eq!(required, written);
        }
    }

    #[test]
    fn problem_items_describe_field_and_row_errors() {
        use crate::domain::FieldError;
        let doc = document();
        let item = component(&doc, "ProblemItem");
        let described = property_names(item);
        let required: Vec<String> = serde_json::from_value(item["required"].clone()).unwrap();
        let field = serde_json::to_value(FieldError::new("amount", "is required")).unwrap();
        let row = serde_json::to_value(
            crate::domain::csv_format::parse_import(b"date\r\nnot-a-date\r\n").unwrap_err(),
        )
        .unwrap();
        for value in [&field, &row[0]] {
            let keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            assert!(keys.iter().all(|k| described.contains(k)), "{value}");
            assert!(required.iter().all(|k| keys.contains(k)), "{value}");
        }
        assert!(row[0].get("line").is_some(), "{row}");
    }

    #[test]
    fn every_reference_resolves_and_every_component_is_used() {
        fn refs(value: &Value, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        found.push(target.clone());
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        let names: Vec<&String> = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        for target in &found {
            let name = target.strip_prefix("#/components/schemas/").unwrap();
            assert!(
                names.iter().any(|n| *n == name),
                "{target} does not resolve"
            );
        }
        for name in names {
            assert!(
                found.contains(&format!("#/components/schemas/{name}")),
                "{name} is unused"
            );
        }
    }

    #[test]
    fn group_by_is_written_as_its_parameter_value() {
        let doc = document();
        let documented = &doc["components"]["schemas"]["Summary"]["properties"]["group_by"]["enum"];
        let names: Vec<&str> = GroupBy::ALL.iter().map(|g| g.name()).collect();
        assert_eq!(documented, &json!(names));
        for group in GroupBy::ALL {
            assert_eq!(serde_json::to_value(group).unwrap(), json!(group.name()));
        }
    }

    #[test]
    fn every_operation_has_a_listed_tag_and_says_how_it_is_authorised() {
        let doc = document();
        let listed: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(doc["servers"][0]["url"], "/");
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            let tag = op["tags"][0].as_str().unwrap();
            assert!(listed.contains(&tag), "{}: {tag}", route.function);
            let expected = if route.authenticated {
                json!([{"bearer": []}])
            } else {
                json!([])
            };
            assert_eq!(op["security"], expected, "{}", route.function);
        }
        assert_eq!(tag_of("/v1/expenses/{id}"), "expenses");
        assert_eq!(tag_of("/v1/reports/summary"), "reports");
        assert_eq!(tag_of("/health"), "service");
    }

    #[test]
    fn is_a_valid_openapi_31_document() {
        let doc = document();
        let parsed: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(parsed.paths.paths.contains_key("/v1/expenses/{id}"));
    }

    #[test]
    fn describes_exactly_the_route_table() {
        let doc = document();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .flat_map(|r| r.paths().map(|p| (r.method.to_string(), p.to_owned())))
            .collect();
        documented.sort();
        routes.sort();
        assert_eq!(documented, routes);
    }

    #[test]
    fn a_ledger_form_is_its_route_in_a_ledger() {
        let doc = document();
        for route in ROUTES {
            let Some(ledger_path) = route.ledger_path else {
                continue;
            };
            let method = route.method.as_str().to_ascii_lowercase();
            let own = &doc["paths"][route.path][&method];
            let scoped = &doc["paths"][ledger_path][&method];
            assert_eq!(scoped["operationId"], ledger_operation_id(route));
            assert_eq!(scoped["parameters"][0]["name"], "ledger_id");
            assert_eq!(scoped["requestBody"], own["requestBody"]);
            let codes = |op: &Value| -> Vec<String> {
                op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect()
            };
            let mut expected = codes(own);
            for code in ["403", "404"] {
                if !expected.iter().any(|c| c == code) {
                    expected.push(code.to_owned());
                }
            }
            expected.sort();
            let mut got = codes(scoped);
            got.sort();
            assert_eq!(got, expected, "{ledger_path}");
            assert_eq!(scoped["responses"]["200"], own["responses"]["200"]);
            assert_eq!(scoped["responses"]["201"], own["responses"]["201"]);
        }
    }

    #[test]
    fn carries_the_real_constraints() {
        let doc = document();
        let new = &doc["components"]["schemas"]["NewExpense"];
        assert_eq!(new["additionalProperties"], false);
        assert_eq!(
            new["properties"]["amount"]["$ref"],
            "#/components/schemas/Amount"
        );
        assert_eq!(
            new["properties"]["currency"]["$ref"],
            "#/components/schemas/Currency"
        );
        let amount = &doc["components"]["schemas"]["Amount"];
        assert_eq!(amount["pattern"], amount_pattern(SCALE_DIGITS));
        let codes = doc["components"]["schemas"]["Currency"]["enum"]
            .as_array()
            .unwrap();
        assert!(codes.contains(&json!("BHD")) && !codes.contains(&json!("XAU")));
        // The per-currency decimals are stated in words, naming every
        // currency whose minor unit is not 2.
        let about = amount["description"].as_str().unwrap();
        for (decimals, group) in currencies_by_decimals() {
            if decimals != 2 {
                assert!(
                    about.contains(&format!("{decimals} for {}", group.join(", "))),
                    "{about}"
                );
            }
        }
        assert!(about.contains("0 for ") && about.contains("JPY"), "{about}");
        let merchant = new["properties"]["merchant"]["pattern"].as_str().unwrap();
        assert!(merchant.contains("{0,198}"), "{merchant}");
    }

    /// What breaks client generators (issue 11): `properties` beside
    /// `anyOf`/`oneOf`, and a request body offered in two media types.
    #[test]
    fn is_shaped_for_client_generators() {
        fn walk(value: &Value, at: &str) {
            match value {
                Value::Object(map) => {
                    for combinator in ["anyOf", "oneOf", "allOf"] {
                        assert!(
                            !(map.contains_key(combinator) && map.contains_key("properties")),
                            "{at}: properties beside {combinator}"
                        );
                    }
                    for (key, inner) in map {
                        walk(inner, &format!("{at}/{key}"));
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, at)),
                _ => {}
            }
        }
        let doc = document();
        walk(&doc, "#");
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            if let Some(content) = op["requestBody"]["content"].as_object() {
                assert_eq!(content.len(), 1, "{}", route.function);
            }
            for key in ["operationId", "summary", "description"] {
                assert!(
                    op[key].as_str().is_some_and(|t| !t.is_empty()),
                    "{}: {key}",
                    route.function
                );
            }
        }
        let export = &doc["paths"]["/v1/expenses/export"]["get"]["parameters"];
        let cursor = export
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "cursor")
            .unwrap();
        assert!(cursor["description"].as_str().unwrap().contains("Link"));
    }

    #[test]
    fn amount_patterns_follow_the_minor_unit_and_the_maximum() {
        assert_eq!(amount_pattern(0), "^0*[1-9][0-9]{0,11}$");
        let two = amount_pattern(2);
        assert!(
            two.starts_with("^(0*([1-9][0-9]{0,10}|[1-8][0-9]{11}|9{1}[0-8][0-9]{10}|"),
            "{two}"
        );
        assert!(two.ends_with("|9{11}[0-8])(\\.[0-9]{1,2})?|0*9{12}(\\.0{1,2})?|0+\\.([1-9][0-9]{0,1}|0{1}[1-9]))$"), "{two}");
        let bound = bound_pattern();
        assert!(bound.starts_with("^(0*([0-9]{1,11}|[1-8]"), "{bound}");
        assert!(
            bound.ends_with("(\\.[0-9]{1,4})?|0*9{12}(\\.0{1,4})?)$"),
            "{bound}"
        );
        let decimals: Vec<u32> = currencies_by_decimals().iter().map(|(d, _)| *d).collect();
        assert_eq!(decimals, vec![0, 2, 3, 4]);
    }

    #[test]
    fn trimmed_text_patterns_count_after_trimming() {
        let tag = trimmed_text_pattern(1, MAX_TAG_LEN, ";");
        assert!(tag.starts_with("^[\\t\\n"), "{tag}");
        assert!(tag.contains("[^\\u0000;]{0,48}"), "{tag}");
        let optional = trimmed_text_pattern(0, MAX_MERCHANT, "");
        assert!(optional.contains("])?)?["), "{optional}");
    }

    #[test]
    fn documents_every_status_an_operation_can_return() {
        let doc = document();
        let statuses = |path: &str, method: &str| -> Vec<String> {
            doc["paths"][path][method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        for (path, method) in [("/v1/expenses", "post"), ("/v1/expenses/{id}", "patch")] {
            let got = statuses(path, method);
            for status in ["400", "401", "413", "415", "422", "503"] {
                assert!(
                    got.contains(&status.to_owned()),
                    "{method} {path}: {status}"
                );
            }
        }
        assert!(statuses("/v1/expenses/{id}", "patch").contains(&"412".to_owned()));
        assert!(statuses("/v1/expenses/import", "post").contains(&"409".to_owned()));
        assert!(!statuses("/v1/categories", "get").contains(&"400".to_owned()));
        assert!(statuses("/health", "get").contains(&"413".to_owned()));
        let created = &doc["paths"]["/v1/categories"]["post"]["responses"]["201"];
        assert_eq!(created["headers"]["Location"]["required"], true);
    }
}
