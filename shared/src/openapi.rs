//! The OpenAPI 3.1 document, generated from the route table and the
//! domain's own limits, so it cannot drift from what the code enforces.
//! The document is checked against utoipa's OpenAPI model in tests.

use serde_json::{json, Map, Value};

use crate::domain::category::MAX_NAME;
use crate::domain::expense::{MAX_DESCRIPTION, MAX_MERCHANT, MAX_TAGS, MAX_TAG_LEN};
use crate::domain::filter::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::money::Currency;
use crate::http::routes::{Operation, Route, ROUTES};

const AMOUNT_PATTERN: &str = "^[0-9]+(\\.[0-9]+)?$";

fn schemas() -> Value {
    let currency = json!({
        "type": "string",
        "description": "Active ISO 4217 code with a numeric minor unit, upper case.",
        "enum": Currency::all_codes(),
    });
    let amount = json!({
        "type": "string",
        "pattern": AMOUNT_PATTERN,
        "maxLength": 32,
        "description": "Decimal string, > 0 and at most 999999999999, with at most the currency's minor-unit digits. Responses print exactly the minor-unit digits.",
        "examples": ["12.30"],
    });
    let date =
        json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"});
    let text = |max: usize| json!({"type": ["string", "null"], "maxLength": max, "description": format!("Trimmed of Unicode White_Space; at most {max} code points; empty means null; no U+0000.")});
    let tags = json!({
        "type": ["array", "null"],
        "maxItems": MAX_TAGS,
        "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LEN, "pattern": "^[^;]*$"},
        "description": format!("At most {MAX_TAGS} distinct tags of 1-{MAX_TAG_LEN} code points after trimming, no ';'. Duplicates collapse to the first; null means []."),
    });
    let category_id = json!({"type": ["string", "null"], "maxLength": 64, "description": "One of the caller's categories."});
    let writable = |required: bool| {
        let mut props = Map::new();
        props.insert("amount".into(), amount.clone());
        props.insert("currency".into(), currency.clone());
        props.insert("date".into(), date.clone());
        props.insert("category_id".into(), category_id.clone());
        props.insert("merchant".into(), text(MAX_MERCHANT));
        props.insert("description".into(), text(MAX_DESCRIPTION));
        props.insert("tags".into(), tags.clone());
        let mut schema =
            json!({"type": "object", "additionalProperties": false, "properties": props});
        if required {
            schema["required"] = json!(["amount", "currency", "date"]);
        }
        schema
    };
    let timestamp = json!({"type": "string", "format": "date-time"});
    json!({
        "Amount": amount,
        "Currency": currency,
        "NewExpense": writable(true),
        "ExpensePatch": writable(false),
        "Expense": {
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "amount", "currency", "date", "category_id", "merchant", "description", "tags", "version", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "string"},
                "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "date": date,
                "category_id": {"type": ["string", "null"]},
                "merchant": {"type": ["string", "null"]},
                "description": {"type": ["string", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "version": {"type": "integer", "minimum": 1},
                "created_at": timestamp,
                "updated_at": timestamp,
            },
        },
        "ExpensePage": {
            "type": "object",
            "additionalProperties": false,
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Expense"}},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        "NewCategory": category_body(true),
        "CategoryPatch": category_body(false),
        "Category": {
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "name", "color", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "color": {"type": ["string", "null"], "pattern": "^#[0-9a-f]{6}$"},
                "created_at": timestamp,
                "updated_at": timestamp,
            },
        },
        "CategoryList": {
            "type": "object",
            "additionalProperties": false,
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}}},
        },
        "BudgetInput": {
            "type": "object",
            "additionalProperties": false,
            "required": ["amount", "currency"],
            "properties": {"amount": amount, "currency": currency},
        },
        "Budget": {
            "type": "object",
            "additionalProperties": false,
            "required": ["category_id", "amount", "currency", "created_at", "updated_at"],
            "properties": {
                "category_id": {"type": "string"},
                "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "created_at": timestamp,
                "updated_at": timestamp,
            },
        },
        "BudgetMonth": {
            "type": "object",
            "additionalProperties": false,
            "required": ["month", "items"],
            "properties": {
                "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                "items": {"type": "array", "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["category_id", "amount", "currency", "spent", "remaining", "over"],
                    "properties": {
                        "category_id": {"type": "string"},
                        "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
                        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "spent": {"type": "string", "pattern": AMOUNT_PATTERN},
                        "remaining": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"},
                        "over": {"type": "boolean"},
                    },
                }},
            },
        },
        "Summary": {
            "type": "object",
            "additionalProperties": false,
            "required": ["from", "to", "group_by", "groups"],
            "properties": {
                "from": {"type": ["string", "null"], "format": "date"},
                "to": {"type": ["string", "null"], "format": "date"},
                "group_by": {"type": "string", "enum": ["category", "month", "tag", "merchant"]},
                "groups": {"type": "array", "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["key", "currency", "total", "count"],
                    "properties": {
                        "key": {"type": ["string", "null"]},
                        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "total": {"type": "string", "pattern": AMOUNT_PATTERN},
                        "count": {"type": "integer", "minimum": 1},
                    },
                }},
            },
        },
        "ImportResult": {
            "type": "object",
            "additionalProperties": false,
            "required": ["imported"],
            "properties": {"imported": {"type": "integer", "minimum": 0}},
        },
        "Health": {
            "type": "object",
            "required": ["status", "checks"],
            "properties": {
                "status": {"type": "string", "enum": ["ok"]},
                "checks": {
                    "type": "object",
                    "required": ["database", "cache"],
                    "properties": {
                        "database": {"type": "string", "enum": ["ok"]},
                        "cache": {"type": "string", "enum": ["ok", "unavailable", "disabled"]},
                    },
                },
            },
        },
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "line": {"type": "integer", "minimum": 1, "description": "CSV import: the 1-based physical line where the record starts."},
                        },
                    },
                },
            },
        },
    })
}

fn category_body(required: bool) -> Value {
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME,
                     "description": "Unique per user ignoring case; trimmed of Unicode White_Space."},
            "color": {"type": ["string", "null"], "pattern": "^#[0-9A-Fa-f]{6}$"},
        },
    });
    if required {
        schema["required"] = json!(["name"]);
    }
    schema
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

fn body_of(schema: &str) -> Value {
    json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}})
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

fn id_param() -> Value {
    path_param("id")
}

fn idempotency_param() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
           "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
           "description": "For 24 hours the same key and body replays the first response (Idempotent-Replayed: true); another body is 422."})
}

fn if_match_param() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
           "description": "The expense's ETag (\"<version>\"); a stale one is 412."})
}

fn filter_params() -> Vec<Value> {
    list_params()
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|p| p["name"] != "limit")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn list_params() -> Value {
    let query = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description});
    let bound = json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,4})?$"});
    json!([
        query(
            "from",
            json!({"type": "string", "format": "date"}),
            "Earliest date, inclusive."
        ),
        query(
            "to",
            json!({"type": "string", "format": "date"}),
            "Latest date, inclusive; not before from."
        ),
        query(
            "category_id",
            json!({"type": "string"}),
            "A category id, or `none` for uncategorised expenses."
        ),
        query(
            "tag",
            json!({"type": "string"}),
            "Expenses carrying this tag."
        ),
        query(
            "currency",
            json!({"$ref": "#/components/schemas/Currency"}),
            "Expenses in this currency."
        ),
        query(
            "min_amount",
            bound.clone(),
            "Smallest amount, inclusive, compared as a number whatever the currency."
        ),
        query(
            "max_amount",
            bound,
            "Largest amount, inclusive; not below min_amount."
        ),
        query(
            "q",
            json!({"type": "string", "maxLength": 2000}),
            "Case-insensitive substring of merchant or description."
        ),
        query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
            "Page size."
        ),
        query(
            "cursor",
            json!({"type": "string"}),
            "The next_cursor of the previous page."
        ),
    ])
}

fn operation(route: &Route) -> Value {
    let mut responses = Map::new();
    let mut op = json!({
        "operationId": route.function,
        "summary": route.summary,
    });
    let ok = |schema: &str, description: &str| json!({"description": description, "content": body_of(schema)});
    match route.operation {
        Operation::CreateExpense => {
            op["parameters"] = json!([idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": body_of("NewExpense")});
            responses.insert("201".into(), {
                let mut r = ok("Expense", "Created");
                r["headers"] = json!({
                    "Location": {"schema": {"type": "string"}},
                    "ETag": {"schema": {"type": "string"}},
                });
                r
            });
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::ListExpenses => {
            op["parameters"] = list_params();
            responses.insert("200".into(), ok("ExpensePage", "One page"));
        }
        Operation::GetExpense => {
            op["parameters"] = json!([id_param()]);
            let mut r = ok("Expense", "The expense");
            r["headers"] = json!({"ETag": {"schema": {"type": "string"}}});
            responses.insert("200".into(), r);
            responses.insert("404".into(), problem("No such expense"));
        }
        Operation::UpdateExpense => {
            op["parameters"] = json!([id_param(), if_match_param()]);
            let schema = json!({"$ref": "#/components/schemas/ExpensePatch"});
            op["requestBody"] = json!({"required": true, "content": {
                "application/merge-patch+json": {"schema": schema},
                "application/json": {"schema": schema},
            }});
            responses.insert("200".into(), ok("Expense", "Updated"));
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
        }
        Operation::ExportExpenses => {
            op["parameters"] = Value::Array(filter_params());
            responses.insert("200".into(), json!({
                "description": "A CSV part (RFC 4180, header row, at most 900 KiB); a `Link: <…>; rel=\"next\"` header names the next part.",
                "headers": {
                    "Link": {"schema": {"type": "string"}},
                    "Content-Disposition": {"schema": {"type": "string"}},
                },
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }));
        }
        Operation::ImportExpenses => {
            op["parameters"] = json!([idempotency_param()]);
            op["requestBody"] = json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"},
                "example": "date,amount,currency,category,merchant,description,tags\r\n2026-11-28,12.30,USD,Food,Corner Café,Lunch,team;lunch\r\n"}}});
            responses.insert("201".into(), ok("ImportResult", "Every row stored"));
            responses.insert("415".into(), problem("Not text/csv"));
            responses.insert(
                "422".into(),
                problem("Bad rows (each with its line); nothing stored"),
            );
        }
        Operation::CreateCategory => {
            op["requestBody"] = json!({"required": true, "content": body_of("NewCategory")});
            responses.insert("201".into(), ok("Category", "Created"));
            responses.insert("409".into(), problem("The name is taken (ignoring case)"));
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::ListCategories => {
            responses.insert("200".into(), ok("CategoryList", "By lower-cased name"));
        }
        Operation::GetCategory => {
            op["parameters"] = json!([id_param()]);
            responses.insert("200".into(), ok("Category", "The category"));
            responses.insert("404".into(), problem("No such category"));
        }
        Operation::UpdateCategory => {
            op["parameters"] = json!([id_param()]);
            let schema = json!({"$ref": "#/components/schemas/CategoryPatch"});
            op["requestBody"] = json!({"required": true, "content": {
                "application/merge-patch+json": {"schema": schema},
                "application/json": {"schema": schema},
            }});
            responses.insert("200".into(), ok("Category", "Updated"));
            responses.insert("404".into(), problem("No such category"));
            responses.insert("409".into(), problem("The name is taken (ignoring case)"));
            responses.insert("415".into(), problem("Not JSON"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::DeleteCategory => {
            op["parameters"] = json!([id_param()]);
            responses.insert("204".into(), json!({"description": "Deleted; its expenses are uncategorised, its budget removed"}));
            responses.insert("404".into(), problem("No such category"));
        }
        Operation::PutBudget => {
            op["parameters"] = json!([path_param("category_id")]);
            op["requestBody"] = json!({"required": true, "content": body_of("BudgetInput")});
            responses.insert("200".into(), ok("Budget", "Created or replaced"));
            responses.insert("404".into(), problem("No such category"));
            responses.insert("415".into(), problem("Not application/json"));
            responses.insert("422".into(), problem("Invalid fields"));
        }
        Operation::DeleteBudget => {
            op["parameters"] = json!([path_param("category_id")]);
            responses.insert("204".into(), json!({"description": "Removed"}));
            responses.insert("404".into(), problem("No budget for this category"));
        }
        Operation::ListBudgets => {
            op["parameters"] = json!([{"name": "month", "in": "query", "required": false,
                "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
                "description": "YYYY-MM; default: the current UTC month."}]);
            responses.insert("200".into(), ok("BudgetMonth", "Budgets with spending"));
        }
        Operation::SummaryReport => {
            op["parameters"] = json!([
                {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}},
                {"name": "group_by", "in": "query", "required": false,
                 "schema": {"type": "string", "enum": ["category", "month", "tag", "merchant"], "default": "category"}},
            ]);
            responses.insert("200".into(), ok("Summary", "Totals per key and currency"));
        }
        Operation::Health => {
            responses.insert("200".into(), ok("Health", "Healthy"));
            responses.insert("503".into(), problem("The database is unreachable"));
        }
        Operation::OpenApi => {
            responses.insert(
                "200".into(),
                json!({"description": "This document", "content": {"application/json": {"schema": {"type": "object"}}}}),
            );
        }
    }
    if route.authenticated {
        op["security"] = json!([{"bearer": []}]);
        responses.insert("400".into(), problem("Malformed request"));
        responses.insert("401".into(), problem("Missing or invalid token"));
        responses.insert("413".into(), problem("Body over 1 MiB"));
        responses.insert("503".into(), problem("Database unavailable"));
    }
    op["responses"] = Value::Object(responses);
    op
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Expense Tracker API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Record expenses, organise them, and read summaries. Money is a decimal string in integer minor units; errors are RFC 9457 problem+json.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        documented.sort();
        routes.sort();
        assert_eq!(documented, routes);
    }

    #[test]
    fn carries_the_real_constraints() {
        let doc = document();
        let new = &doc["components"]["schemas"]["NewExpense"];
        assert_eq!(new["additionalProperties"], false);
        assert_eq!(new["properties"]["amount"]["pattern"], AMOUNT_PATTERN);
        assert_eq!(new["properties"]["merchant"]["maxLength"], 200);
        let codes = new["properties"]["currency"]["enum"].as_array().unwrap();
        assert!(codes.contains(&json!("BHD")) && !codes.contains(&json!("XAU")));
    }
}
