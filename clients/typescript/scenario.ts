// End-to-end scenario through openapi-fetch, typed by generated/api.d.ts, which
// scripts/clients.sh writes with openapi-typescript from the server's own
// GET /openapi.json. `tsc --noEmit -p .` checks this file against those types
// before tsx runs it against a real server:
//
//   BASE_URL=http://127.0.0.1:PORT TOKEN=<jwt of user A> TOKEN2=<jwt of user B> npx tsx scenario.ts
//
// Every request goes through the typed client (paths, parameters and bodies are
// checked against the document; `data` and `error` are the document's response
// schemas). Prints one line per passed check; exits non-zero at the first failure.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

type Expense = components["schemas"]["Expense"];
type NewExpense = components["schemas"]["NewExpense"];
// Patch bodies are written `satisfies ExpensePatch`: see invalid.ts for why.
type ExpensePatch = components["schemas"]["ExpensePatch"];
type CategoryPatch = components["schemas"]["CategoryPatch"];
type LedgerPatch = components["schemas"]["LedgerPatch"];
type Problem = components["schemas"]["Problem"];

const BASE_URL = env("BASE_URL");

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// --- checks ---------------------------------------------------------------------

class CheckFailed extends Error {}
let passed = 0;

function ok(what: string): void {
  passed += 1;
  console.log(`ok ${passed} - ${what}`);
}

function check(condition: boolean, what: string, detail?: unknown): void {
  if (!condition) throw new CheckFailed(`${what}: ${JSON.stringify(detail)}`);
  ok(what);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// What openapi-fetch answers: `data` on 2xx, `error` otherwise.
type Result<D, E> = { data: D; error?: never; response: Response } | { data?: never; error: E; response: Response };

/** A success with `status`; returns the typed body and the response (for headers). */
async function expectOk<D, E>(call: Promise<Result<D, E>>, status: number): Promise<{ data: D; response: Response }> {
  const r = await call;
  if (r.response.status !== status || r.error !== undefined) {
    throw new CheckFailed(`${r.response.url}: expected HTTP ${status}, got ${r.response.status}: ${JSON.stringify(r.error)}`);
  }
  return { data: r.data as D, response: r.response };
}

/** A typed problem+json answer with `status` in the status line and in the body. */
async function expectProblem<D, E extends Problem>(call: Promise<Result<D, E>>, status: number): Promise<E> {
  const r = await call;
  if (r.response.status !== status || r.error === undefined) {
    throw new CheckFailed(`${r.response.url}: expected a ${status} problem, got ${r.response.status}: ${JSON.stringify(r.data ?? r.error)}`);
  }
  const type = r.response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) throw new CheckFailed(`problem served as ${type}`);
  if (r.error.status !== status) throw new CheckFailed(`problem body says ${r.error.status}, the response ${status}`);
  return r.error;
}

const fields = (p: Problem): string[] => (p.errors ?? []).map((e) => e.field);

// --- clients ----------------------------------------------------------------------

// Every "METHOD /path/template" the scenario called, from openapi-fetch's schemaPath.
const called = new Set<string>();
const record: Middleware = {
  onRequest({ request, schemaPath }) {
    called.add(`${request.method.toLowerCase()} ${schemaPath}`);
  },
};

function clientFor(token?: string): Client<paths> {
  const client = createClient<paths>({
    baseUrl: BASE_URL,
    ...(token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }),
  });
  client.use(record);
  return client;
}

const alice = clientFor(env("TOKEN"));
const bob = clientFor(env("TOKEN2"));
const anonymous = clientFor();

async function allPages(client: Client<paths>): Promise<Expense[]> {
  const items: Expense[] = [];
  let cursor: string | undefined;
  for (;;) {
    const query = cursor === undefined ? {} : { cursor };
    const { data } = await expectOk(client.GET("/v1/expenses", { params: { query } }), 200);
    items.push(...data.items);
    if (data.next_cursor === null) return items;
    cursor = data.next_cursor;
  }
}

/** POST /v1/expenses/import: the body is the document's `text/csv` string, sent as is. */
function importCsv(client: Client<paths>, body: string) {
  return client.POST("/v1/expenses/import", {
    body,
    bodySerializer: (csv: string) => csv,
    headers: { "Content-Type": "text/csv" },
  });
}

/** The same, into the ledger `ledger_id`. */
function importCsvInLedger(client: Client<paths>, ledger_id: string, body: string) {
  return client.POST("/v1/ledgers/{ledger_id}/expenses/import", {
    params: { path: { ledger_id } },
    body,
    bodySerializer: (csv: string) => csv,
    headers: { "Content-Type": "text/csv" },
  });
}

// What an export/import round trip keeps (ids are new, categories are matched by name).
const fingerprint = (e: Expense) => JSON.stringify([e.date, e.amount, e.currency, e.merchant, e.description, e.tags]);
const multiset = (xs: string[]) => JSON.stringify([...xs].sort());

async function main(): Promise<void> {
  // --- service ----------------------------------------------------------------------
  const health = (await expectOk(anonymous.GET("/health"), 200)).data;
  check(health.status === "ok" && health.checks.database === "ok", "health: status ok, database ok", health);
  const doc = (await expectOk(anonymous.GET("/openapi.json"), 200)).data as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };
  const operations = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "put", "post", "delete", "patch"]) if (item[method]) operations.add(`${method} ${path}`);
  }
  check(doc.openapi === "3.1.0" && operations.size >= 18, "openapi.json: OpenAPI 3.1.0", [...operations]);

  // --- 401 without a token ------------------------------------------------------------
  {
    const r = await anonymous.GET("/v1/expenses");
    await expectProblem(Promise.resolve(r), 401);
    check((r.response.headers.get("www-authenticate") ?? "").startsWith("Bearer"), "401 without a token, WWW-Authenticate: Bearer");
  }

  // --- categories -----------------------------------------------------------------------
  const food = (await expectOk(alice.POST("/v1/categories", { body: { name: "Food", color: "#aa00ff" } }), 201)).data;
  check(food.name === "Food" && food.color === "#aa00ff", "create category round-trips name and color", food);
  const travel = (await expectOk(alice.POST("/v1/categories", { body: { name: "  Travel " } }), 201)).data;
  check(travel.name === "Travel" && travel.color === null, "create category trims the name, color defaults to null", travel);
  const dup = await expectProblem(alice.POST("/v1/categories", { body: { name: "fOOD" } }), 409);
  ok(`duplicate category name ignoring case is a typed 409 (${dup.title})`);
  const gotCat = (await expectOk(alice.GET("/v1/categories/{id}", { params: { path: { id: food.id } } }), 200)).data;
  check(same(gotCat, food), "get category equals the created one", gotCat);
  const trips = (
    await expectOk(
      alice.PATCH("/v1/categories/{id}", { params: { path: { id: travel.id } }, body: { name: "Trips", color: "#00aa11" } satisfies CategoryPatch }),
      200,
    )
  ).data;
  check(trips.id === travel.id && trips.name === "Trips" && trips.color === "#00aa11", "patch category renames and colours", trips);
  const cats = (await expectOk(alice.GET("/v1/categories"), 200)).data;
  check(same(cats.items.map((c) => c.name), ["Food", "Trips"]), "list categories, sorted by name", cats);

  // --- expenses: create, validation, read, isolation --------------------------------------
  const created = await expectOk(
    alice.POST("/v1/expenses", {
      body: {
        amount: "12.3",
        currency: "USD",
        date: "2026-01-15",
        category_id: food.id,
        merchant: "  Corner Café  ",
        description: "Lunch",
        tags: ["team", "lunch", "team"],
      },
    }),
    201,
  );
  const lunch = created.data;
  check(
    same(
      [lunch.amount, lunch.currency, lunch.date, lunch.category_id, lunch.merchant, lunch.description, lunch.tags, lunch.version],
      ["12.30", "USD", "2026-01-15", food.id, "Corner Café", "Lunch", ["team", "lunch"], 1],
    ),
    "create expense: amount printed with 2 decimals, merchant trimmed, tags deduplicated, version 1",
    lunch,
  );
  check(
    created.response.headers.get("location") === `/v1/expenses/${lunch.id}` && created.response.headers.get("etag") === '"1"',
    "create expense: Location and ETag headers",
    Object.fromEntries(created.response.headers),
  );
  const bad = await expectProblem(alice.POST("/v1/expenses", { body: { amount: "1.234", currency: "USD", date: "2026-01-01" } }), 422);
  check(same(fields(bad), ["amount"]), "amount 1.234 in USD is a typed 422 naming field amount", bad);

  const got = await expectOk(alice.GET("/v1/expenses/{id}", { params: { path: { id: lunch.id } } }), 200);
  check(same(got.data, lunch), "get expense equals the created one", got.data);
  const etag = got.response.headers.get("etag") ?? "";
  check(etag === '"1"', "get expense: ETag is the version", etag);
  await expectProblem(alice.GET("/v1/expenses/{id}", { params: { path: { id: "0190aaaa-0000-7000-8000-000000000000" } } }), 404);
  ok("unknown expense id is a typed 404");
  await expectProblem(bob.GET("/v1/expenses/{id}", { params: { path: { id: lunch.id } } }), 404);
  ok("another user's expense is a typed 404");

  // --- ETag / If-Match ---------------------------------------------------------------------
  const patched = await expectOk(
    alice.PATCH("/v1/expenses/{id}", {
      params: { path: { id: lunch.id }, header: { "If-Match": etag } },
      body: { amount: "15", description: null } satisfies ExpensePatch,
    }),
    200,
  );
  check(
    same([patched.data.amount, patched.data.description, patched.data.merchant, patched.data.version], ["15.00", null, "Corner Café", 2]),
    "PATCH with the current If-Match: amount replaced, null clears description, version 2",
    patched.data,
  );
  const newEtag = patched.response.headers.get("etag") ?? "";
  check(newEtag === '"2"', "PATCH answers the new ETag", newEtag);
  await expectProblem(
    alice.PATCH("/v1/expenses/{id}", { params: { path: { id: lunch.id }, header: { "If-Match": etag } }, body: { merchant: "Late" } satisfies ExpensePatch }),
    412,
  );
  ok("PATCH with the stale If-Match is a typed 412");
  const again = (await expectOk(alice.GET("/v1/expenses/{id}", { params: { path: { id: lunch.id } } }), 200)).data;
  check(again.merchant === "Corner Café" && again.version === 2, "the refused PATCH changed nothing", again);

  // --- cursors: 5 expenses, pages of 2 -------------------------------------------------------
  const five: Expense[] = [];
  for (let day = 1; day <= 5; day++) {
    const body: NewExpense = { amount: String(day * 100), currency: "JPY", date: `2026-02-0${day}`, merchant: `Shop ${day}`, tags: ["page"] };
    five.push((await expectOk(alice.POST("/v1/expenses", { body }), 201)).data);
  }
  check(same(five.map((e) => e.amount), ["100", "200", "300", "400", "500"]), "5 JPY expenses created, printed without decimals");
  const seen: string[] = [];
  let pages = 0;
  let cursor: string | undefined;
  for (;;) {
    const query = { currency: "JPY", limit: 2, ...(cursor === undefined ? {} : { cursor }) } as const;
    const page = (await expectOk(alice.GET("/v1/expenses", { params: { query } }), 200)).data;
    pages += 1;
    if (page.items.length > 2) throw new CheckFailed(`a page of limit 2 has ${page.items.length} items`);
    seen.push(...page.items.map((e) => e.id));
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
    if (pages > 10) throw new CheckFailed("the cursor never ends");
  }
  check(
    pages === 3 && same(seen, five.map((e) => e.id).reverse()),
    "limit=2: 3 pages following next_cursor to null, each of the 5 exactly once, newest date first",
    [pages, seen],
  );

  // --- budgets -------------------------------------------------------------------------------
  const budget = (
    await expectOk(alice.PUT("/v1/budgets/{category_id}", { params: { path: { category_id: food.id } }, body: { amount: "10", currency: "USD" } }), 200)
  ).data;
  check(same([budget.category_id, budget.amount, budget.currency], [food.id, "10.00", "USD"]), "put budget", budget);
  const month = (await expectOk(alice.GET("/v1/budgets", { params: { query: { month: "2026-01" } } }), 200)).data;
  check(
    month.month === "2026-01" &&
      same(
        month.items.map((i) => [i.category_id, i.amount, i.currency, i.spent, i.remaining, i.over]),
        [[food.id, "10.00", "USD", "15.00", "-5.00", true]],
      ),
    "list budgets for 2026-01: spent 15.00 of 10.00, remaining -5.00, over",
    month,
  );
  const badBudget = await expectProblem(
    alice.PUT("/v1/budgets/{category_id}", { params: { path: { category_id: food.id } }, body: { amount: "1.001", currency: "USD" } }),
    422,
  );
  check(same(fields(badBudget), ["amount"]), "budget amount 1.001 in USD is a typed 422 naming amount", badBudget);

  // --- the summary report totals what was created ----------------------------------------------------
  const byCategory = (await expectOk(alice.GET("/v1/reports/summary"), 200)).data;
  check(
    byCategory.group_by === "category" &&
      byCategory.from === null &&
      byCategory.to === null &&
      byCategory.next_cursor === null &&
      same(
        byCategory.groups.map((g) => [g.key, g.currency, g.total, g.count]),
        [
          [food.id, "USD", "15.00", 1],
          [null, "JPY", "1500", 5],
        ],
      ),
    "summary by category: Food 15.00 USD x1, uncategorised 1500 JPY x5",
    byCategory,
  );
  const byMonth = (
    await expectOk(alice.GET("/v1/reports/summary", { params: { query: { group_by: "month", from: "2026-02-02", to: "2026-02-28" } } }), 200)
  ).data;
  check(
    byMonth.from === "2026-02-02" && same(byMonth.groups.map((g) => [g.key, g.currency, g.total, g.count]), [["2026-02", "JPY", "1400", 4]]),
    "summary by month from 2026-02-02: 1400 JPY x4",
    byMonth,
  );
  await expectProblem(alice.GET("/v1/reports/summary", { params: { query: { from: "2026-03-01", to: "2026-02-01" } } }), 400);
  ok("summary with from after to is a typed 400");

  // --- export (CSV), and import it into user B's empty account ------------------------------------------
  const exported = await expectOk(alice.GET("/v1/expenses/export", { parseAs: "text" }), 200);
  const csv: string = exported.data;
  const lines = csv.split("\r\n").filter((l) => l !== "");
  check(lines[0] === "id,date,amount,currency,category,merchant,description,tags" && lines.length === 7, "export: header row and 6 expenses", lines);
  check(
    (exported.response.headers.get("content-disposition") ?? "").startsWith("attachment") && !exported.response.headers.has("link"),
    "export: Content-Disposition attachment, one part",
  );
  const row = lines.find((l) => l.startsWith(`${lunch.id},`));
  check(row === `${lunch.id},2026-01-15,15.00,USD,Food,Corner Café,,team;lunch`, "export row of the patched expense", row);

  const imported = (await expectOk(importCsv(bob, csv), 201)).data;
  check(imported.imported === 6, "import of the export into user B: 6 imported", imported);
  const mine = await allPages(alice);
  const theirs = await allPages(bob);
  check(multiset(theirs.map(fingerprint)) === multiset(mine.map(fingerprint)), "B's expenses are A's expenses (new ids)", theirs);
  const bobCats = (await expectOk(bob.GET("/v1/categories"), 200)).data;
  check(same(bobCats.items.map((c) => c.name), ["Food"]), "import created B's category Food by name", bobCats);
  const bobLunch = theirs.find((e) => e.currency === "USD");
  const mineIds = new Set(mine.map((e) => e.id));
  check(
    bobLunch?.category_id === bobCats.items[0]?.id && theirs.every((e) => !mineIds.has(e.id)),
    "imported rows carry B's category and new ids",
    bobLunch,
  );
  const rejected = await expectProblem(importCsv(bob, "date,amount,currency\r\n2026-01-01,1.00,USD\r\n2026-01-02,abc,USD\r\n"), 422);
  check(
    same((rejected.errors ?? []).map((e) => [e.line, e.field]), [[3, "amount"]]),
    "import with a bad row is a typed 422 naming line 3, field amount",
    rejected,
  );
  check((await allPages(bob)).length === 6, "the rejected import stored nothing");

  // --- deletes ----------------------------------------------------------------------------------------------
  const foodBudget = { params: { path: { category_id: food.id } } };
  await expectOk(alice.DELETE("/v1/budgets/{category_id}", foodBudget), 204);
  await expectProblem(alice.DELETE("/v1/budgets/{category_id}", foodBudget), 404);
  const after = (await expectOk(alice.GET("/v1/budgets", { params: { query: { month: "2026-01" } } }), 200)).data;
  check(after.items.length === 0, "delete budget: 204, then 404, and the month lists none", after);

  await expectProblem(alice.DELETE("/v1/expenses/{id}", { params: { path: { id: lunch.id }, header: { "If-Match": etag } } }), 412);
  ok("DELETE with the stale If-Match is a typed 412");
  await expectOk(alice.DELETE("/v1/expenses/{id}", { params: { path: { id: lunch.id }, header: { "If-Match": newEtag } } }), 204);
  await expectProblem(alice.GET("/v1/expenses/{id}", { params: { path: { id: lunch.id } } }), 404);
  ok("DELETE with the current If-Match: 204, then the expense is 404");

  await expectOk(alice.DELETE("/v1/categories/{id}", { params: { path: { id: trips.id } } }), 204);
  await expectProblem(alice.GET("/v1/categories/{id}", { params: { path: { id: trips.id } } }), 404);
  ok("delete category: 204, then 404");

  // --- ledgers: sharing one between A and B ---------------------------------------------------------------------
  const aliceLedgers = (await expectOk(alice.GET("/v1/ledgers"), 200)).data;
  check(
    aliceLedgers.items.length === 1 && aliceLedgers.items[0]?.personal === true && aliceLedgers.items[0].role === "owner",
    "list ledgers: A has one, personal, as owner",
    aliceLedgers,
  );
  const personalId = aliceLedgers.items[0]?.id ?? "";
  const createdLedger = await expectOk(alice.POST("/v1/ledgers", { body: { name: "  Household ", home_currency: "EUR" } }), 201);
  const house = createdLedger.data;
  check(
    same([house.name, house.home_currency, house.personal, house.role], ["Household", "EUR", false, "owner"]),
    "create ledger: name trimmed, home currency EUR, not personal, A is owner",
    house,
  );
  check(createdLedger.response.headers.get("location") === `/v1/ledgers/${house.id}`, "create ledger: Location header", Object.fromEntries(createdLedger.response.headers));
  const inHouse = { params: { path: { ledger_id: house.id } } };
  await expectProblem(bob.GET("/v1/ledgers/{ledger_id}", inHouse), 404);
  ok("a non-member's get ledger is a typed 404");

  const editorInv = (await expectOk(alice.POST("/v1/ledgers/{ledger_id}/invitations", { ...inHouse, body: { role: "editor" } }), 201)).data;
  const viewerInv = (await expectOk(alice.POST("/v1/ledgers/{ledger_id}/invitations", { ...inHouse, body: { role: "viewer" } }), 201)).data;
  check(
    editorInv.role === "editor" && viewerInv.role === "viewer" && editorInv.code !== "" && editorInv.code !== viewerInv.code,
    "create invitations: an editor one and a viewer one, each with its own code",
    [editorInv, viewerInv],
  );
  const invs = (await expectOk(alice.GET("/v1/ledgers/{ledger_id}/invitations", inHouse), 200)).data;
  check(
    same(invs.items.map((i) => [i.id, i.role]).sort(), [[editorInv.id, "editor"], [viewerInv.id, "viewer"]].sort()) &&
      invs.items.every((i) => !("code" in i)),
    "list invitations: both, without codes",
    invs,
  );
  await expectOk(
    alice.DELETE("/v1/ledgers/{ledger_id}/invitations/{invitation_id}", { params: { path: { ledger_id: house.id, invitation_id: viewerInv.id } } }),
    204,
  );
  const invsAfter = (await expectOk(alice.GET("/v1/ledgers/{ledger_id}/invitations", inHouse), 200)).data;
  check(same(invsAfter.items.map((i) => i.id), [editorInv.id]), "revoke invitation: 204, then only the editor one is listed", invsAfter);
  await expectProblem(bob.POST("/v1/invitations/accept", { body: { code: viewerInv.code } }), 404);
  ok("accepting the revoked code is a typed 404");

  const joined = (await expectOk(bob.POST("/v1/invitations/accept", { body: { code: editorInv.code } }), 200)).data;
  check(
    same([joined.id, joined.name, joined.personal, joined.role], [house.id, "Household", false, "editor"]),
    "B accepts the editor invitation: the ledger, as editor",
    joined,
  );
  const rejoined = (await expectOk(bob.POST("/v1/invitations/accept", { body: { code: editorInv.code } }), 200)).data;
  check(rejoined.id === house.id && rejoined.role === "editor", "B accepting the same code again is 200 again", rejoined);
  const bobLedgers = (await expectOk(bob.GET("/v1/ledgers"), 200)).data;
  check(
    same(bobLedgers.items.map((l) => [l.personal, l.role]), [[true, "owner"], [false, "editor"]]) && bobLedgers.items[1]?.id === house.id,
    "list ledgers: B has two, personal first, then the shared one as editor",
    bobLedgers,
  );
  const forbidden = await expectProblem(bob.PATCH("/v1/ledgers/{ledger_id}", { ...inHouse, body: { name: "Bob's" } satisfies LedgerPatch }), 403);
  ok(`an editor's update ledger is a typed 403 (${forbidden.title})`);
  const renamed = (await expectOk(alice.PATCH("/v1/ledgers/{ledger_id}", { ...inHouse, body: { name: "Home" } satisfies LedgerPatch }), 200)).data;
  check(
    same([renamed.id, renamed.name, renamed.home_currency, renamed.role], [house.id, "Home", "EUR", "owner"]),
    "the owner's update ledger renames it, home currency kept",
    renamed,
  );
  const bobSees = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}", inHouse), 200)).data;
  check(bobSees.name === "Home" && bobSees.role === "editor", "B reads the new name, still editor", bobSees);

  const members = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}/members", inHouse), 200)).data;
  const [aliceId, bobId] = [members.items[0]?.user_id ?? "", members.items[1]?.user_id ?? ""];
  check(
    same(members.items.map((m) => m.role), ["owner", "editor"]) && aliceId !== bobId,
    "list members: A (owner), then B (editor), by joined_at",
    members,
  );

  // --- the shared ledger's data: B (editor) and A (owner) keep it together ----------------------------------
  const createdCat = await expectOk(bob.POST("/v1/ledgers/{ledger_id}/categories", { ...inHouse, body: { name: "Groceries" } }), 201);
  const groceries = createdCat.data;
  check(
    createdCat.response.headers.get("location") === `/v1/ledgers/${house.id}/categories/${groceries.id}`,
    "B creates a category in the shared ledger: Location under the ledger",
    Object.fromEntries(createdCat.response.headers),
  );
  const sharedCats = (await expectOk(alice.GET("/v1/ledgers/{ledger_id}/categories", inHouse), 200)).data;
  const ownCats = (await expectOk(alice.GET("/v1/categories"), 200)).data;
  check(
    same(sharedCats.items.map((c) => c.id), [groceries.id]) && !ownCats.items.some((c) => c.id === groceries.id),
    "A lists it in the shared ledger, not among A's own categories",
    [sharedCats, ownCats],
  );
  const inHouseCat = { params: { path: { ledger_id: house.id, id: groceries.id } } };
  const renamedCat = (
    await expectOk(alice.PATCH("/v1/ledgers/{ledger_id}/categories/{id}", { ...inHouseCat, body: { name: "Food shop" } satisfies CategoryPatch }), 200)
  ).data;
  const gotCatInHouse = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}/categories/{id}", inHouseCat), 200)).data;
  check(renamedCat.name === "Food shop" && same(gotCatInHouse, renamedCat), "A renames it, B reads the new name", gotCatInHouse);

  const createdMarket = await expectOk(
    bob.POST("/v1/ledgers/{ledger_id}/expenses", {
      ...inHouse,
      body: { amount: "40", currency: "EUR", date: "2026-03-07", category_id: groceries.id, merchant: "Market" },
    }),
    201,
  );
  const market = createdMarket.data;
  check(
    same([market.amount, market.created_by, market.updated_by], ["40.00", bobId, bobId]) &&
      createdMarket.response.headers.get("location") === `/v1/ledgers/${house.id}/expenses/${market.id}`,
    "B records an expense in the shared ledger: created and updated by B, Location under the ledger",
    market,
  );
  const inHouseMarket = { params: { path: { ledger_id: house.id, id: market.id } } };
  const seenByA = await expectOk(alice.GET("/v1/ledgers/{ledger_id}/expenses/{id}", inHouseMarket), 200);
  check(same(seenByA.data, market), "A reads B's expense", seenByA.data);
  await expectProblem(alice.GET("/v1/expenses/{id}", { params: { path: { id: market.id } } }), 404);
  ok("the shared expense is not in A's personal ledger (typed 404)");
  const fixed = (
    await expectOk(
      alice.PATCH("/v1/ledgers/{ledger_id}/expenses/{id}", {
        params: { path: { ledger_id: house.id, id: market.id }, header: { "If-Match": seenByA.response.headers.get("etag") ?? "" } },
        body: { amount: "42.5" } satisfies ExpensePatch,
      }),
      200,
    )
  ).data;
  check(
    same([fixed.amount, fixed.version, fixed.created_by, fixed.updated_by], ["42.50", 2, bobId, aliceId]),
    "A corrects it: created by B, updated by A, version 2",
    fixed,
  );
  const sharedPage = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}/expenses", inHouse), 200)).data;
  check(same(sharedPage.items.map((e) => e.id), [market.id]), "B lists the shared ledger: just that expense", sharedPage);

  const inHouseBudget = { params: { path: { ledger_id: house.id, category_id: groceries.id } } };
  const sharedBudget = (await expectOk(bob.PUT("/v1/ledgers/{ledger_id}/budgets/{category_id}", { ...inHouseBudget, body: { amount: "100", currency: "EUR" } }), 200)).data;
  const sharedMonth = (
    await expectOk(alice.GET("/v1/ledgers/{ledger_id}/budgets", { params: { path: { ledger_id: house.id }, query: { month: "2026-03" } } }), 200)
  ).data;
  check(
    sharedBudget.amount === "100.00" && same(sharedMonth.items.map((i) => [i.category_id, i.spent, i.remaining, i.over]), [[groceries.id, "42.50", "57.50", false]]),
    "B sets the category's budget, A sees 42.50 of 100.00 spent",
    sharedMonth,
  );
  const sharedSummary = (await expectOk(alice.GET("/v1/ledgers/{ledger_id}/reports/summary", inHouse), 200)).data;
  check(
    same(sharedSummary.groups.map((g) => [g.key, g.currency, g.total, g.count]), [[groceries.id, "EUR", "42.50", 1]]),
    "the shared ledger's summary: 42.50 EUR x1 under the category",
    sharedSummary,
  );
  const sharedCsv: string = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}/expenses/export", { ...inHouse, parseAs: "text" }), 200)).data;
  const sharedLines = sharedCsv.split("\r\n").filter((l) => l !== "");
  check(
    sharedLines.length === 2 && sharedLines[1] === `${market.id},2026-03-07,42.50,EUR,Food shop,Market,,`,
    "B exports the shared ledger: one row, with the category's name",
    sharedLines,
  );
  const sharedImport = (await expectOk(importCsvInLedger(alice, house.id, sharedCsv), 201)).data;
  const sharedAll = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}/expenses", inHouse), 200)).data;
  check(
    sharedImport.imported === 1 && sharedAll.items.length === 2 && sharedAll.items.every((e) => e.category_id === groceries.id),
    "A imports that export back into the ledger: 2 expenses, both filed under the existing category",
    sharedAll,
  );
  const copy = sharedAll.items.find((e) => e.id !== market.id)?.id ?? "";
  await expectOk(bob.DELETE("/v1/ledgers/{ledger_id}/expenses/{id}", { params: { path: { ledger_id: house.id, id: copy } } }), 204);
  await expectOk(alice.DELETE("/v1/ledgers/{ledger_id}/budgets/{category_id}", inHouseBudget), 204);
  await expectProblem(alice.DELETE("/v1/ledgers/{ledger_id}/budgets/{category_id}", inHouseBudget), 404);
  ok("deletes in the shared ledger: the copy and the budget (then a typed 404)");

  const member = (path: { ledger_id: string; user_id: string }) => ({ params: { path } });
  const demoted = (
    await expectOk(alice.PATCH("/v1/ledgers/{ledger_id}/members/{user_id}", { ...member({ ledger_id: house.id, user_id: bobId }), body: { role: "viewer" } }), 200)
  ).data;
  check(demoted.user_id === bobId && demoted.role === "viewer", "update member: A makes B a viewer", demoted);
  await expectProblem(
    alice.PATCH("/v1/ledgers/{ledger_id}/members/{user_id}", { ...member({ ledger_id: house.id, user_id: aliceId }), body: { role: "editor" } }),
    409,
  );
  ok("demoting the last owner is a typed 409");
  const refused = await expectProblem(
    bob.POST("/v1/ledgers/{ledger_id}/expenses", { ...inHouse, body: { amount: "1", currency: "EUR", date: "2026-03-08" } }),
    403,
  );
  ok(`B, now a viewer, may not record an expense in the ledger: typed 403 (${refused.title})`);
  await expectProblem(bob.DELETE("/v1/ledgers/{ledger_id}/categories/{id}", inHouseCat), 403);
  await expectOk(alice.DELETE("/v1/ledgers/{ledger_id}/categories/{id}", inHouseCat), 204);
  const viewerPage = (await expectOk(bob.GET("/v1/ledgers/{ledger_id}/expenses", inHouse), 200)).data;
  check(
    same(viewerPage.items.map((e) => [e.id, e.category_id]), [[market.id, null]]),
    "a viewer's delete category is a typed 403; the owner's uncategorises the expense, which B still reads",
    viewerPage,
  );
  const membersAfter = (await expectOk(alice.GET("/v1/ledgers/{ledger_id}/members", inHouse), 200)).data;
  check(
    same(membersAfter.items.map((m) => [m.user_id, m.role]), [[aliceId, "owner"], [bobId, "viewer"]]),
    "the refused change left A the owner, B a viewer",
    membersAfter,
  );

  await expectOk(bob.DELETE("/v1/ledgers/{ledger_id}/members/{user_id}", member({ ledger_id: house.id, user_id: bobId })), 204);
  await expectProblem(bob.GET("/v1/ledgers/{ledger_id}", inHouse), 404);
  ok("B leaves (remove member on themselves): 204, then the ledger is a typed 404 for B");
  const bobAlone = (await expectOk(bob.GET("/v1/ledgers"), 200)).data;
  check(same(bobAlone.items.map((l) => l.personal), [true]), "B's ledgers are their personal one again", bobAlone);

  await expectOk(alice.DELETE("/v1/ledgers/{ledger_id}", inHouse), 204);
  await expectProblem(alice.GET("/v1/ledgers/{ledger_id}", inHouse), 404);
  ok("delete ledger: 204, then a typed 404");
  await expectProblem(alice.DELETE("/v1/ledgers/{ledger_id}", { params: { path: { ledger_id: personalId } } }), 409);
  ok("deleting the personal ledger is a typed 409");
  const emptyCode = await expectProblem(bob.POST("/v1/invitations/accept", { body: { code: "" } }), 422);
  check(same(fields(emptyCode), ["code"]), "accept with an empty code is a typed 422 naming code", emptyCode);

  // --- every operation of the document was called -------------------------------------------------------------
  const missing = [...operations].filter((o) => !called.has(o));
  const extra = [...called].filter((o) => !operations.has(o));
  check(missing.length === 0 && extra.length === 0, "every operation of openapi.json was called", { missing, extra });
}

main().then(
  () => console.log(`typescript scenario: ${passed} checks passed, ${called.size} operations called`),
  (err: unknown) => {
    if (!(err instanceof CheckFailed)) console.error(err);
    console.error(`not ok ${passed + 1} - ${err instanceof Error ? err.message : String(err)}`);
    console.error(`typescript scenario: FAILED after ${passed} checks`);
    process.exit(1);
  },
);
