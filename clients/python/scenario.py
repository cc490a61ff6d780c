"""End-to-end scenario through the Python client generated from GET /openapi.json.

Run by scripts/clients.sh, which generates the package `expense_tracker_api_client`
with openapi-python-client, puts it on PYTHONPATH, type-checks this file with
mypy --strict and runs it against a real server:

    BASE_URL=http://127.0.0.1:PORT TOKEN=<jwt of user A> TOKEN2=<jwt of user B> python scenario.py

Every call below goes through the generated, typed functions (`*.sync_detailed`)
with the generated request models, and every answer is parsed into the
generated response models -- except POST /v1/expenses/import, for which the
generator makes no function at all (it skips `text/csv` request bodies with a
warning); that one call is sent through the generated client's own httpx client
and its answer is still parsed with the generated models.

Prints one line per passed check and exits non-zero at the first failed one.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import sys
import traceback
from collections import Counter
from http import HTTPStatus
from typing import Any, NoReturn, TypeVar

from expense_tracker_api_client import AuthenticatedClient, Client
from expense_tracker_api_client.api.budgets import (
    delete_budget,
    delete_budget_in_ledger,
    list_budgets,
    list_budgets_in_ledger,
    put_budget,
    put_budget_in_ledger,
)
from expense_tracker_api_client.api.categories import (
    create_category,
    create_category_in_ledger,
    delete_category,
    delete_category_in_ledger,
    get_category,
    get_category_in_ledger,
    list_categories,
    list_categories_in_ledger,
    update_category,
    update_category_in_ledger,
)
from expense_tracker_api_client.api.expenses import (
    create_expense,
    create_expense_in_ledger,
    delete_expense,
    delete_expense_in_ledger,
    export_expenses,
    export_expenses_in_ledger,
    get_expense,
    get_expense_in_ledger,
    list_expenses,
    list_expenses_in_ledger,
    update_expense,
    update_expense_in_ledger,
)
from expense_tracker_api_client.api.ledgers import (
    accept_invitation,
    create_invitation,
    create_ledger,
    delete_ledger,
    get_ledger,
    list_invitations,
    list_ledgers,
    list_members,
    remove_member,
    revoke_invitation,
    update_ledger,
    update_member,
)
from expense_tracker_api_client.api.reports import summary_report, summary_report_in_ledger
from expense_tracker_api_client.api.service import health, openapi
from expense_tracker_api_client.models import (
    BudgetInput,
    BudgetMonth,
    Budget,
    Category,
    CategoryList,
    CategoryPatch,
    CreatedInvitation,
    Currency,
    Expense,
    ExpensePage,
    ExpensePatch,
    Health,
    ImportResult,
    InvitationCode,
    InvitationList,
    Ledger,
    LedgerList,
    LedgerPatch,
    MemberList,
    MemberPatch,
    MemberPatchRole,
    MemberView,
    NewCategory,
    NewExpense,
    NewInvitation,
    NewInvitationRole,
    NewLedger,
    OpenapiResponse200,
    Problem,
    Summary,
    SummaryReportGroupBy,
)
from expense_tracker_api_client.types import UNSET, Response, Unset

T = TypeVar("T")

BASE_URL = os.environ["BASE_URL"]
# Operations of the document this scenario has called (checked against its paths at the end).
called: set[str] = set()
passed = 0


class CheckFailed(Exception):
    pass


def fail(message: str) -> NoReturn:
    raise CheckFailed(message)


def ok(what: str) -> None:
    global passed
    passed += 1
    print(f"ok {passed} - {what}", flush=True)


def check(condition: bool, what: str, detail: object = "") -> None:
    if not condition:
        fail(f"{what}: {detail}")
    ok(what)


def expect(operation: str, resp: Response[Any], status: int, model: type[T]) -> T:
    """The answer has `status` and was parsed into the generated `model`."""
    called.add(operation)
    body = resp.content.decode("utf-8", "replace")[:500]
    if resp.status_code != status:
        fail(f"{operation}: expected HTTP {status}, got {int(resp.status_code)}: {body}")
    if not isinstance(resp.parsed, model):
        fail(f"{operation}: expected a parsed {model.__name__}, got {type(resp.parsed).__name__}: {body}")
    return resp.parsed


def expect_no_content(operation: str, resp: Response[Any]) -> None:
    called.add(operation)
    if resp.status_code != 204:
        fail(f"{operation}: expected HTTP 204, got {int(resp.status_code)}: {resp.content[:500]!r}")


def problem(operation: str, resp: Response[Any], status: int) -> Problem:
    """A typed problem+json answer with `status` in both the status line and the body."""
    p = expect(operation, resp, status, Problem)
    if p.status != status:
        fail(f"{operation}: problem body says status {p.status}, the response {status}")
    if not resp.headers.get("content-type", "").startswith("application/problem+json"):
        fail(f"{operation}: problem served as {resp.headers.get('content-type')!r}")
    return p


def error_fields(p: Problem) -> list[str]:
    return [] if isinstance(p.errors, Unset) else [e.field for e in p.errors]


def client_for(token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE_URL, token=token, raise_on_unexpected_status=True)


def all_pages(client: AuthenticatedClient, **filters: Any) -> list[Expense]:
    items: list[Expense] = []
    cursor: str | Unset = UNSET
    while True:
        page = expect("list-expenses", list_expenses.sync_detailed(client=client, cursor=cursor, **filters), 200, ExpensePage)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def import_csv(client: AuthenticatedClient, body: str, ledger_id: str | None = None) -> Response[ImportResult | Problem]:
    # No generated function exists for import-expenses (see the module docstring):
    # the generated client's httpx client still carries the base URL and token.
    path = "/v1/expenses/import" if ledger_id is None else f"/v1/ledgers/{ledger_id}/expenses/import"
    raw = client.get_httpx_client().post(path, content=body.encode("utf-8"), headers={"Content-Type": "text/csv"})
    parsed: ImportResult | Problem | None = None
    if raw.status_code == 201:
        parsed = ImportResult.from_dict(raw.json())
    elif raw.headers.get("content-type", "").startswith("application/problem+json"):
        parsed = Problem.from_dict(raw.json())
    return Response(status_code=HTTPStatus(raw.status_code), content=raw.content, headers=raw.headers, parsed=parsed)


def fingerprint(e: Expense) -> tuple[object, ...]:
    """What an export/import round trip keeps (ids are new, categories matched by name)."""
    return (e.date, e.amount, e.currency, e.merchant, e.description, tuple(e.tags))


def main() -> None:
    alice = client_for(os.environ["TOKEN"])
    bob = client_for(os.environ["TOKEN2"])
    # Same client, no Authorization header at all: the header is sent under another name.
    anonymous = AuthenticatedClient(base_url=BASE_URL, token="none", auth_header_name="X-Not-Authorization")

    # --- service ------------------------------------------------------------------
    h = expect("health", health.sync_detailed(client=Client(base_url=BASE_URL)), 200, Health)
    check(h.status.value == "ok" and h.checks.database.value == "ok", "health: status ok, database ok", h.to_dict())
    doc = expect("openapi", openapi.sync_detailed(client=Client(base_url=BASE_URL)), 200, OpenapiResponse200)
    paths: dict[str, dict[str, Any]] = doc.additional_properties["paths"]
    operations = {op["operationId"] for item in paths.values() for op in item.values() if isinstance(op, dict) and "operationId" in op}
    check(doc.additional_properties["openapi"] == "3.1.0" and len(operations) >= 18, "openapi.json: OpenAPI 3.1.0", sorted(operations))

    # --- 401 without a token ----------------------------------------------------------
    resp = list_expenses.sync_detailed(client=anonymous)
    p = problem("list-expenses", resp, 401)
    check(resp.headers.get("www-authenticate", "").startswith("Bearer"), "401 without a token, WWW-Authenticate: Bearer", dict(resp.headers))

    # --- categories -------------------------------------------------------------------
    food = expect("create-category", create_category.sync_detailed(client=alice, body=NewCategory(name="Food", color="#aa00ff")), 201, Category)
    check(food.name == "Food" and food.color == "#aa00ff", "create category round-trips name and color", food.to_dict())
    travel = expect("create-category", create_category.sync_detailed(client=alice, body=NewCategory(name="  Travel ")), 201, Category)
    check(travel.name == "Travel" and travel.color is None, "create category trims the name, color defaults to null", travel.to_dict())
    p = problem("create-category", create_category.sync_detailed(client=alice, body=NewCategory(name="fOOD")), 409)
    ok(f"duplicate category name ignoring case is a typed 409 ({p.title})")
    got = expect("get-category", get_category.sync_detailed(food.id, client=alice), 200, Category)
    check(got.to_dict() == food.to_dict(), "get category equals the created one", got.to_dict())
    trips = expect(
        "update-category",
        update_category.sync_detailed(travel.id, client=alice, body=CategoryPatch(name="Trips", color="#00aa11")),
        200,
        Category,
    )
    check(trips.id == travel.id and trips.name == "Trips" and trips.color == "#00aa11", "patch category renames and colours", trips.to_dict())
    cats = expect("list-categories", list_categories.sync_detailed(client=alice), 200, CategoryList)
    check([c.name for c in cats.items] == ["Food", "Trips"], "list categories, sorted by name", [c.name for c in cats.items])

    # --- expenses: create, validation, read, isolation -----------------------------------
    resp_e = create_expense.sync_detailed(
        client=alice,
        body=NewExpense(
            amount="12.3",
            currency=Currency.USD,
            date=datetime.date(2026, 1, 15),
            category_id=food.id,
            merchant="  Corner Café  ",
            description="Lunch",
            tags=["team", "lunch", "team"],
        ),
    )
    lunch = expect("create-expense", resp_e, 201, Expense)
    check(
        (lunch.amount, lunch.currency, lunch.date, lunch.category_id, lunch.merchant, lunch.description, lunch.tags, lunch.version)
        == ("12.30", "USD", datetime.date(2026, 1, 15), food.id, "Corner Café", "Lunch", ["team", "lunch"], 1),
        "create expense: amount printed with 2 decimals, merchant trimmed, tags deduplicated, version 1",
        lunch.to_dict(),
    )
    check(
        resp_e.headers.get("location") == f"/v1/expenses/{lunch.id}" and resp_e.headers.get("etag") == '"1"',
        "create expense: Location and ETag headers",
        dict(resp_e.headers),
    )
    p = problem(
        "create-expense",
        create_expense.sync_detailed(client=alice, body=NewExpense(amount="1.234", currency=Currency.USD, date=datetime.date(2026, 1, 1))),
        422,
    )
    check(error_fields(p) == ["amount"], "amount 1.234 in USD is a typed 422 naming field amount", p.to_dict())

    resp_g = get_expense.sync_detailed(lunch.id, client=alice)
    got_e = expect("get-expense", resp_g, 200, Expense)
    check(got_e.to_dict() == lunch.to_dict(), "get expense equals the created one", got_e.to_dict())
    etag = resp_g.headers.get("etag", "")
    check(etag == '"1"', "get expense: ETag is the version", etag)
    problem("get-expense", get_expense.sync_detailed("0190aaaa-0000-7000-8000-000000000000", client=alice), 404)
    ok("unknown expense id is a typed 404")
    problem("get-expense", get_expense.sync_detailed(lunch.id, client=bob), 404)
    ok("another user's expense is a typed 404")

    # --- ETag / If-Match -------------------------------------------------------------------
    resp_u = update_expense.sync_detailed(lunch.id, client=alice, body=ExpensePatch(amount="15", description=None), if_match=etag)
    patched = expect("update-expense", resp_u, 200, Expense)
    check(
        (patched.amount, patched.description, patched.merchant, patched.version) == ("15.00", None, "Corner Café", 2),
        "PATCH with the current If-Match: amount replaced, null clears description, version 2",
        patched.to_dict(),
    )
    new_etag = resp_u.headers.get("etag", "")
    check(new_etag == '"2"' and new_etag != etag, "PATCH answers the new ETag", new_etag)
    problem("update-expense", update_expense.sync_detailed(lunch.id, client=alice, body=ExpensePatch(merchant="Late"), if_match=etag), 412)
    ok("PATCH with the stale If-Match is a typed 412")
    again = expect("get-expense", get_expense.sync_detailed(lunch.id, client=alice), 200, Expense)
    check(again.merchant == "Corner Café" and again.version == 2, "the refused PATCH changed nothing", again.to_dict())

    # --- cursors: 5 expenses, pages of 2 -------------------------------------------------------
    created = []
    for day in range(1, 6):
        e = expect(
            "create-expense",
            create_expense.sync_detailed(
                client=alice,
                body=NewExpense(amount=str(day * 100), currency=Currency.JPY, date=datetime.date(2026, 2, day), merchant=f"Shop {day}", tags=["page"]),
            ),
            201,
            Expense,
        )
        created.append(e)
    check([e.amount for e in created] == ["100", "200", "300", "400", "500"], "5 JPY expenses created, printed without decimals", [e.amount for e in created])
    seen: list[str] = []
    pages = 0
    cursor: str | Unset = UNSET
    while True:
        page = expect("list-expenses", list_expenses.sync_detailed(client=alice, currency=Currency.JPY, limit=2, cursor=cursor), 200, ExpensePage)
        pages += 1
        if len(page.items) > 2:
            fail(f"a page of limit 2 has {len(page.items)} items")
        seen.extend(e.id for e in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        if pages > 10:
            fail("the cursor never ends")
    check(
        pages == 3 and seen == [e.id for e in reversed(created)],
        "limit=2: 3 pages following next_cursor to null, each of the 5 exactly once, newest date first",
        (pages, seen),
    )

    # --- budgets -------------------------------------------------------------------------------
    b = expect("put-budget", put_budget.sync_detailed(food.id, client=alice, body=BudgetInput(amount="10", currency=Currency.USD)), 200, Budget)
    check((b.category_id, b.amount, b.currency) == (food.id, "10.00", "USD"), "put budget", b.to_dict())
    month = expect("list-budgets", list_budgets.sync_detailed(client=alice, month="2026-01"), 200, BudgetMonth)
    items = [(i.category_id, i.amount, i.currency, i.spent, i.remaining, i.over) for i in month.items]
    check(
        month.month == "2026-01" and items == [(food.id, "10.00", "USD", "15.00", "-5.00", True)],
        "list budgets for 2026-01: spent 15.00 of 10.00, remaining -5.00, over",
        month.to_dict(),
    )
    p = problem("put-budget", put_budget.sync_detailed(food.id, client=alice, body=BudgetInput(amount="1.001", currency=Currency.USD)), 422)
    check(error_fields(p) == ["amount"], "budget amount 1.001 in USD is a typed 422 naming amount", p.to_dict())

    # --- the summary report totals what was created ----------------------------------------------------
    s = expect("summary-report", summary_report.sync_detailed(client=alice), 200, Summary)
    groups = [(g.key, g.currency, g.total, g.count) for g in s.groups]
    check(
        s.group_by.value == "category" and s.from_ is None and s.to is None and s.next_cursor is None
        and groups == [(food.id, "USD", "15.00", 1), (None, "JPY", "1500", 5)],
        "summary by category: Food 15.00 USD x1, uncategorised 1500 JPY x5",
        s.to_dict(),
    )
    s = expect(
        "summary-report",
        summary_report.sync_detailed(client=alice, group_by=SummaryReportGroupBy.MONTH, from_=datetime.date(2026, 2, 2), to=datetime.date(2026, 2, 28)),
        200,
        Summary,
    )
    check(
        [(g.key, g.currency, g.total, g.count) for g in s.groups] == [("2026-02", "JPY", "1400", 4)] and s.from_ == datetime.date(2026, 2, 2),
        "summary by month from 2026-02-02: 1400 JPY x4",
        s.to_dict(),
    )
    problem("summary-report", summary_report.sync_detailed(client=alice, from_=datetime.date(2026, 3, 1), to=datetime.date(2026, 2, 1)), 400)
    ok("summary with from after to is a typed 400")

    # --- export (CSV), and import it into user B's empty account ------------------------------------------
    resp_x = export_expenses.sync_detailed(client=alice)
    exported = expect("export-expenses", resp_x, 200, str)
    rows = list(csv.reader(io.StringIO(exported)))
    check(
        rows[0] == ["id", "date", "amount", "currency", "category", "merchant", "description", "tags"] and len(rows) == 7,
        "export: header row and 6 expenses",
        rows,
    )
    check(
        resp_x.headers.get("content-disposition", "").startswith("attachment") and "link" not in resp_x.headers,
        "export: Content-Disposition attachment, one part",
        dict(resp_x.headers),
    )
    food_row = next(r for r in rows[1:] if r[0] == lunch.id)
    check(food_row[1:] == ["2026-01-15", "15.00", "USD", "Food", "Corner Café", "", "team;lunch"], "export row of the patched expense", food_row)

    resp_i = import_csv(bob, exported)
    imp = expect("import-expenses", resp_i, 201, ImportResult)
    check(imp.imported == 6, "import of the export into user B: 6 imported", imp.to_dict())
    mine = all_pages(alice)
    theirs = all_pages(bob)
    check(Counter(map(fingerprint, theirs)) == Counter(map(fingerprint, mine)), "B's expenses are A's expenses (new ids)", [e.to_dict() for e in theirs])
    bob_cats = expect("list-categories", list_categories.sync_detailed(client=bob), 200, CategoryList)
    check([c.name for c in bob_cats.items] == ["Food"], "import created B's category Food by name", bob_cats.to_dict())
    bob_lunch = next(e for e in theirs if e.currency == "USD")
    check(bob_lunch.category_id == bob_cats.items[0].id and set(e.id for e in theirs).isdisjoint(e.id for e in mine), "imported rows carry B's category and new ids", bob_lunch.to_dict())
    bad = "date,amount,currency\r\n2026-01-01,1.00,USD\r\n2026-01-02,abc,USD\r\n"
    p = problem("import-expenses", import_csv(bob, bad), 422)
    lines = [] if isinstance(p.errors, Unset) else [(e.line, e.field) for e in p.errors]
    check(lines == [(3, "amount")], "import with a bad row is a typed 422 naming line 3, field amount", p.to_dict())
    check(len(all_pages(bob)) == 6, "the rejected import stored nothing")

    # --- deletes ----------------------------------------------------------------------------------------------
    expect_no_content("delete-budget", delete_budget.sync_detailed(food.id, client=alice))
    problem("delete-budget", delete_budget.sync_detailed(food.id, client=alice), 404)
    month = expect("list-budgets", list_budgets.sync_detailed(client=alice, month="2026-01"), 200, BudgetMonth)
    check(month.items == [], "delete budget: 204, then 404, and the month lists none", month.to_dict())

    problem("delete-expense", delete_expense.sync_detailed(lunch.id, client=alice, if_match=etag), 412)
    ok("DELETE with the stale If-Match is a typed 412")
    expect_no_content("delete-expense", delete_expense.sync_detailed(lunch.id, client=alice, if_match=new_etag))
    problem("get-expense", get_expense.sync_detailed(lunch.id, client=alice), 404)
    ok("DELETE with the current If-Match: 204, then the expense is 404")

    expect_no_content("delete-category", delete_category.sync_detailed(trips.id, client=alice))
    problem("get-category", get_category.sync_detailed(trips.id, client=alice), 404)
    ok("delete category: 204, then 404")

    # --- ledgers: sharing one between A and B ---------------------------------------------------------------------
    mine_l = expect("list-ledgers", list_ledgers.sync_detailed(client=alice), 200, LedgerList)
    check(
        len(mine_l.items) == 1 and mine_l.items[0].personal and mine_l.items[0].role.value == "owner",
        "list ledgers: A has one, personal, as owner",
        mine_l.to_dict(),
    )
    personal = mine_l.items[0]
    resp_l = create_ledger.sync_detailed(client=alice, body=NewLedger(name="  Household ", home_currency=Currency.EUR))
    house = expect("create-ledger", resp_l, 201, Ledger)
    check(
        (house.name, house.home_currency, house.personal, house.role.value) == ("Household", "EUR", False, "owner"),
        "create ledger: name trimmed, home currency EUR, not personal, A is owner",
        house.to_dict(),
    )
    check(resp_l.headers.get("location") == f"/v1/ledgers/{house.id}", "create ledger: Location header", dict(resp_l.headers))
    problem("get-ledger", get_ledger.sync_detailed(house.id, client=bob), 404)
    ok("a non-member's get ledger is a typed 404")

    editor_inv = expect(
        "create-invitation",
        create_invitation.sync_detailed(house.id, client=alice, body=NewInvitation(role=NewInvitationRole.EDITOR)),
        201,
        CreatedInvitation,
    )
    viewer_inv = expect(
        "create-invitation",
        create_invitation.sync_detailed(house.id, client=alice, body=NewInvitation(role=NewInvitationRole.VIEWER)),
        201,
        CreatedInvitation,
    )
    check(
        (editor_inv.role.value, viewer_inv.role.value) == ("editor", "viewer") and editor_inv.code != "" and editor_inv.code != viewer_inv.code,
        "create invitations: an editor one and a viewer one, each with its own code",
        (editor_inv.to_dict(), viewer_inv.to_dict()),
    )
    resp_li = list_invitations.sync_detailed(house.id, client=alice)
    invs = expect("list-invitations", resp_li, 200, InvitationList)
    raw_items: list[dict[str, Any]] = json.loads(resp_li.content)["items"]
    check(
        sorted((i.id, i.role.value) for i in invs.items) == sorted([(editor_inv.id, "editor"), (viewer_inv.id, "viewer")])
        and all("code" not in i for i in raw_items),
        "list invitations: both, without codes",
        raw_items,
    )
    expect_no_content("revoke-invitation", revoke_invitation.sync_detailed(house.id, viewer_inv.id, client=alice))
    invs = expect("list-invitations", list_invitations.sync_detailed(house.id, client=alice), 200, InvitationList)
    check([i.id for i in invs.items] == [editor_inv.id], "revoke invitation: 204, then only the editor one is listed", invs.to_dict())
    problem("accept-invitation", accept_invitation.sync_detailed(client=bob, body=InvitationCode(code=viewer_inv.code)), 404)
    ok("accepting the revoked code is a typed 404")

    joined = expect("accept-invitation", accept_invitation.sync_detailed(client=bob, body=InvitationCode(code=editor_inv.code)), 200, Ledger)
    check(
        (joined.id, joined.name, joined.personal, joined.role.value) == (house.id, "Household", False, "editor"),
        "B accepts the editor invitation: the ledger, as editor",
        joined.to_dict(),
    )
    joined = expect("accept-invitation", accept_invitation.sync_detailed(client=bob, body=InvitationCode(code=editor_inv.code)), 200, Ledger)
    check((joined.id, joined.role.value) == (house.id, "editor"), "B accepting the same code again is 200 again", joined.to_dict())
    bob_l = expect("list-ledgers", list_ledgers.sync_detailed(client=bob), 200, LedgerList)
    check(
        [(x.personal, x.role.value) for x in bob_l.items] == [(True, "owner"), (False, "editor")] and bob_l.items[1].id == house.id,
        "list ledgers: B has two, personal first, then the shared one as editor",
        bob_l.to_dict(),
    )
    p = problem("update-ledger", update_ledger.sync_detailed(house.id, client=bob, body=LedgerPatch(name="Bob's")), 403)
    ok(f"an editor's update ledger is a typed 403 ({p.title})")
    renamed = expect("update-ledger", update_ledger.sync_detailed(house.id, client=alice, body=LedgerPatch(name="Home")), 200, Ledger)
    check(
        (renamed.id, renamed.name, renamed.home_currency, renamed.role.value) == (house.id, "Home", "EUR", "owner"),
        "the owner's update ledger renames it, home currency kept",
        renamed.to_dict(),
    )
    got_l = expect("get-ledger", get_ledger.sync_detailed(house.id, client=bob), 200, Ledger)
    check((got_l.name, got_l.role.value) == ("Home", "editor"), "B reads the new name, still editor", got_l.to_dict())

    members = expect("list-members", list_members.sync_detailed(house.id, client=bob), 200, MemberList)
    check(
        [m.role.value for m in members.items] == ["owner", "editor"] and members.items[0].user_id != members.items[1].user_id,
        "list members: A (owner), then B (editor), by joined_at",
        members.to_dict(),
    )
    alice_id, bob_id = members.items[0].user_id, members.items[1].user_id

    # --- the shared ledger's data: B (editor) and A (owner) keep it together ----------------------------------
    resp_c = create_category_in_ledger.sync_detailed(house.id, client=bob, body=NewCategory(name="Groceries"))
    groceries = expect("create-category-in-ledger", resp_c, 201, Category)
    check(
        resp_c.headers.get("location") == f"/v1/ledgers/{house.id}/categories/{groceries.id}",
        "B creates a category in the shared ledger: Location under the ledger",
        dict(resp_c.headers),
    )
    shared_cats = expect("list-categories-in-ledger", list_categories_in_ledger.sync_detailed(house.id, client=alice), 200, CategoryList)
    own_cats = expect("list-categories", list_categories.sync_detailed(client=alice), 200, CategoryList)
    check(
        [c.id for c in shared_cats.items] == [groceries.id] and groceries.id not in [c.id for c in own_cats.items],
        "A lists it in the shared ledger, not among A's own categories",
        (shared_cats.to_dict(), own_cats.to_dict()),
    )
    renamed_c = expect(
        "update-category-in-ledger",
        update_category_in_ledger.sync_detailed(house.id, groceries.id, client=alice, body=CategoryPatch(name="Food shop")),
        200,
        Category,
    )
    got_c = expect("get-category-in-ledger", get_category_in_ledger.sync_detailed(house.id, groceries.id, client=bob), 200, Category)
    check(renamed_c.name == "Food shop" and got_c.to_dict() == renamed_c.to_dict(), "A renames it, B reads the new name", got_c.to_dict())

    resp_se = create_expense_in_ledger.sync_detailed(
        house.id,
        client=bob,
        body=NewExpense(amount="40", currency=Currency.EUR, date=datetime.date(2026, 3, 7), category_id=groceries.id, merchant="Market"),
    )
    market = expect("create-expense-in-ledger", resp_se, 201, Expense)
    check(
        (market.amount, market.created_by, market.updated_by) == ("40.00", bob_id, bob_id)
        and resp_se.headers.get("location") == f"/v1/ledgers/{house.id}/expenses/{market.id}",
        "B records an expense in the shared ledger: created and updated by B, Location under the ledger",
        (market.to_dict(), dict(resp_se.headers)),
    )
    resp_sg = get_expense_in_ledger.sync_detailed(house.id, market.id, client=alice)
    seen_by_a = expect("get-expense-in-ledger", resp_sg, 200, Expense)
    check(seen_by_a.to_dict() == market.to_dict(), "A reads B's expense", seen_by_a.to_dict())
    problem("get-expense", get_expense.sync_detailed(market.id, client=alice), 404)
    ok("the shared expense is not in A's personal ledger (typed 404)")
    fixed = expect(
        "update-expense-in-ledger",
        update_expense_in_ledger.sync_detailed(house.id, market.id, client=alice, body=ExpensePatch(amount="42.5"), if_match=resp_sg.headers.get("etag", "")),
        200,
        Expense,
    )
    check(
        (fixed.amount, fixed.version, fixed.created_by, fixed.updated_by) == ("42.50", 2, bob_id, alice_id),
        "A corrects it: created by B, updated by A, version 2",
        fixed.to_dict(),
    )
    shared_page = expect("list-expenses-in-ledger", list_expenses_in_ledger.sync_detailed(house.id, client=bob), 200, ExpensePage)
    check([e.id for e in shared_page.items] == [market.id], "B lists the shared ledger: just that expense", shared_page.to_dict())

    shared_b = expect(
        "put-budget-in-ledger",
        put_budget_in_ledger.sync_detailed(house.id, groceries.id, client=bob, body=BudgetInput(amount="100", currency=Currency.EUR)),
        200,
        Budget,
    )
    shared_month = expect("list-budgets-in-ledger", list_budgets_in_ledger.sync_detailed(house.id, client=alice, month="2026-03"), 200, BudgetMonth)
    check(
        shared_b.amount == "100.00"
        and [(i.category_id, i.spent, i.remaining, i.over) for i in shared_month.items] == [(groceries.id, "42.50", "57.50", False)],
        "B sets the category's budget, A sees 42.50 of 100.00 spent",
        shared_month.to_dict(),
    )
    shared_s = expect("summary-report-in-ledger", summary_report_in_ledger.sync_detailed(house.id, client=alice), 200, Summary)
    check(
        [(g.key, g.currency, g.total, g.count) for g in shared_s.groups] == [(groceries.id, "EUR", "42.50", 1)],
        "the shared ledger's summary: 42.50 EUR x1 under the category",
        shared_s.to_dict(),
    )
    shared_csv = expect("export-expenses-in-ledger", export_expenses_in_ledger.sync_detailed(house.id, client=bob), 200, str)
    shared_rows = list(csv.reader(io.StringIO(shared_csv)))
    check(
        [r[1:5] for r in shared_rows[1:]] == [["2026-03-07", "42.50", "EUR", "Food shop"]],
        "B exports the shared ledger: one row, with the category's name",
        shared_rows,
    )
    shared_imp = expect("import-expenses-in-ledger", import_csv(alice, shared_csv, house.id), 201, ImportResult)
    shared_all = expect("list-expenses-in-ledger", list_expenses_in_ledger.sync_detailed(house.id, client=bob), 200, ExpensePage)
    check(
        shared_imp.imported == 1 and len(shared_all.items) == 2 and {e.category_id for e in shared_all.items} == {groceries.id},
        "A imports that export back into the ledger: 2 expenses, both filed under the existing category",
        shared_all.to_dict(),
    )
    copy = next(e for e in shared_all.items if e.id != market.id)
    expect_no_content("delete-expense-in-ledger", delete_expense_in_ledger.sync_detailed(house.id, copy.id, client=bob))
    expect_no_content("delete-budget-in-ledger", delete_budget_in_ledger.sync_detailed(house.id, groceries.id, client=alice))
    problem("delete-budget-in-ledger", delete_budget_in_ledger.sync_detailed(house.id, groceries.id, client=alice), 404)
    ok("deletes in the shared ledger: the copy and the budget (then a typed 404)")
    demoted = expect(
        "update-member",
        update_member.sync_detailed(house.id, bob_id, client=alice, body=MemberPatch(role=MemberPatchRole.VIEWER)),
        200,
        MemberView,
    )
    check((demoted.user_id, demoted.role.value) == (bob_id, "viewer"), "update member: A makes B a viewer", demoted.to_dict())
    problem("update-member", update_member.sync_detailed(house.id, alice_id, client=alice, body=MemberPatch(role=MemberPatchRole.EDITOR)), 409)
    ok("demoting the last owner is a typed 409")
    p = problem(
        "create-expense-in-ledger",
        create_expense_in_ledger.sync_detailed(house.id, client=bob, body=NewExpense(amount="1", currency=Currency.EUR, date=datetime.date(2026, 3, 8))),
        403,
    )
    ok(f"B, now a viewer, may not record an expense in the ledger: typed 403 ({p.title})")
    problem("delete-category-in-ledger", delete_category_in_ledger.sync_detailed(house.id, groceries.id, client=bob), 403)
    expect_no_content("delete-category-in-ledger", delete_category_in_ledger.sync_detailed(house.id, groceries.id, client=alice))
    viewer_page = expect("list-expenses-in-ledger", list_expenses_in_ledger.sync_detailed(house.id, client=bob), 200, ExpensePage)
    check(
        [(e.id, e.category_id) for e in viewer_page.items] == [(market.id, None)],
        "a viewer's delete category is a typed 403; the owner's uncategorises the expense, which B still reads",
        viewer_page.to_dict(),
    )
    members = expect("list-members", list_members.sync_detailed(house.id, client=alice), 200, MemberList)
    check(
        [(m.user_id, m.role.value) for m in members.items] == [(alice_id, "owner"), (bob_id, "viewer")],
        "the refused change left A the owner, B a viewer",
        members.to_dict(),
    )

    expect_no_content("remove-member", remove_member.sync_detailed(house.id, bob_id, client=bob))
    problem("get-ledger", get_ledger.sync_detailed(house.id, client=bob), 404)
    ok("B leaves (remove member on themselves): 204, then the ledger is a typed 404 for B")
    bob_l = expect("list-ledgers", list_ledgers.sync_detailed(client=bob), 200, LedgerList)
    check([x.personal for x in bob_l.items] == [True], "B's ledgers are their personal one again", bob_l.to_dict())

    expect_no_content("delete-ledger", delete_ledger.sync_detailed(house.id, client=alice))
    problem("get-ledger", get_ledger.sync_detailed(house.id, client=alice), 404)
    ok("delete ledger: 204, then a typed 404")
    problem("delete-ledger", delete_ledger.sync_detailed(personal.id, client=alice), 409)
    ok("deleting the personal ledger is a typed 409")
    p = problem("accept-invitation", accept_invitation.sync_detailed(client=bob, body=InvitationCode(code="")), 422)
    check(error_fields(p) == ["code"], "accept with an empty code is a typed 422 naming code", p.to_dict())

    # --- every operation of the document was called -------------------------------------------------------------
    check(called == operations, "every operation of openapi.json was called", sorted(operations ^ called))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 -- any failure fails the scenario, with its cause
        if not isinstance(exc, CheckFailed):
            traceback.print_exc()
        print(f"not ok {passed + 1} - {exc}", file=sys.stderr, flush=True)
        print(f"python scenario: FAILED after {passed} checks", file=sys.stderr)
        sys.exit(1)
    print(f"python scenario: {passed} checks passed, {len(called)} operations called")
