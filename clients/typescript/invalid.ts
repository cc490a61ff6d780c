// Request bodies the generated types must REJECT. This file must not compile:
// scripts/clients.sh runs tsc on it and requires an error on every line ending
// in a "rejects" marker comment and on no other line; it then checks a copy in
// which each marked line is preceded by `// @ts-expect-error`, which must
// compile cleanly (so a marked line that tsc accepted would fail the run as an
// unused directive).
// One case per line: tsc reports each error on the line of the bad value.
// Nothing here is ever run.
//
// Known gap (openapi-fetch 0.17.0, not the document): a request body whose schema
// has no required property (ExpensePatch, CategoryPatch) loses TypeScript's
// weak-type and excess-property checks when written inline, because the call's
// options are an inferred type parameter. `body: 42` or `body: { version: 3 }` is
// then ACCEPTED by tsc. Assigning to the generated type, or `satisfies
// ExpensePatch` as below and in scenario.ts, restores both checks.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

type ExpensePatch = components["schemas"]["ExpensePatch"];
type LedgerPatch = components["schemas"]["LedgerPatch"];

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:9" });
const id = "0190aaaa-0000-7000-8000-000000000000";

export async function rejected(): Promise<void> {
  await client.POST("/v1/expenses", { body: {} }); // rejects: {} as a new expense (amount, currency, date are required)
  await client.POST("/v1/expenses", { body: { amount: 5, currency: "JPY", date: "2026-01-01" } }); // rejects: a number as amount
  await client.POST("/v1/expenses", { body: 42 }); // rejects: 42 as a new expense
  await client.PATCH("/v1/expenses/{id}", { params: { path: { id } }, body: 42 satisfies ExpensePatch }); // rejects: 42 as a patch
  await client.PUT("/v1/budgets/{category_id}", { params: { path: { category_id: id } }, body: { amount: "400.00" } }); // rejects: a budget without currency
  await client.POST("/v1/expenses", { body: { amount: "1.00", currency: "XAU", date: "2026-01-01" } }); // rejects: a currency outside the enum
  await client.PATCH("/v1/expenses/{id}", { params: { path: { id } }, body: { version: 3 } satisfies ExpensePatch }); // rejects: a read-only field in a patch
  await client.PATCH("/v1/expenses/{id}", { params: { path: { id } }, body: { amount: 5 } }); // rejects: a number as amount in a patch
  await client.PATCH("/v1/expenses/{id}", { params: { path: { id } }, body: { currency: null } }); // rejects: null for a required field
  await client.GET("/v1/expenses/{id}", {}); // rejects: a missing path parameter
  await client.POST("/v1/ledgers", { body: {} }); // rejects: {} as a new ledger (name is required)
  await client.POST("/v1/ledgers", { body: { name: 7 } }); // rejects: a number as a ledger name
  await client.POST("/v1/ledgers", { body: { name: "Home", home_currency: "XAU" } }); // rejects: a home currency outside the enum
  await client.PATCH("/v1/ledgers/{ledger_id}", { params: { path: { ledger_id: id } }, body: { personal: true } satisfies LedgerPatch }); // rejects: a read-only field in a ledger patch
  await client.POST("/v1/ledgers/{ledger_id}/invitations", { params: { path: { ledger_id: id } }, body: { role: "owner" } }); // rejects: an invitation as owner
  await client.PATCH("/v1/ledgers/{ledger_id}/members/{user_id}", { params: { path: { ledger_id: id, user_id: id } }, body: {} }); // rejects: a member patch without role
  await client.POST("/v1/invitations/accept", { body: {} }); // rejects: an accept without code
  await client.GET("/v1/expense"); // rejects: a path the document does not have
}
