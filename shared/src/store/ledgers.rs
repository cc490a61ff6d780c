//! Ledgers, their members and invitations, on both backends.
//!
//! Every change to a ledger, its members or its invitations locks the
//! ledger's row first (then the rows it changes), so such changes to one
//! ledger run one after another, never deadlock each other, and check the
//! caller's role inside the same transaction that acts on it.

use async_trait::async_trait;

use super::backend::{Row, Tx};
use super::sql::Dialect;
use super::sql_store::{complete, retrying, SqlStore};
use super::{Completion, StoreError};
use crate::domain::ledger::{Invitation, Ledger, Member, Role, PERSONAL_LEDGER_NAME};
use crate::domain::money::Currency;
use crate::domain::UserId;

/// What a checked change to a ledger came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked<T> {
    Done(T),
    /// The caller is no member of a live ledger of that id: 404, as for a
    /// ledger that does not exist.
    NotMember,
    /// A member whose role does not allow it: 403.
    Forbidden,
    /// No such member or invitation in the ledger: 404.
    Missing,
    /// Refused to keep an invariant of the contract: 409, with the reason.
    Refused(&'static str),
}

/// What accepting an invitation code came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// The caller is now (or, having used this code before, still) a
    /// member with this role.
    Member(Ledger, Role),
    /// Unknown, used by someone else, revoked or expired: 404.
    NoSuchCode,
    /// Already a member by other means: 409, and the code stays unused.
    AlreadyMember,
}

pub const LAST_OWNER: &str = "A ledger keeps at least one owner.";
pub const OWN_PERSONAL_MEMBERSHIP: &str =
    "Your own membership of your personal ledger never changes.";
pub const PERSONAL_LEDGER: &str = "A personal ledger cannot be deleted.";

#[async_trait]
pub trait LedgerStore {
    /// The user's personal ledger, made on first use: racing first
    /// requests make one (its key is unique).
    async fn personal_ledger(&self, user: &UserId, now: i64) -> Result<Ledger, StoreError>;

    /// A live ledger the user is a member of, with their role.
    async fn membership(
        &self,
        user: &UserId,
        ledger_id: &str,
    ) -> Result<Option<(Ledger, Role)>, StoreError>;

    /// Every live ledger the user is a member of, with their role.
    async fn ledgers_of(&self, user: &UserId) -> Result<Vec<(Ledger, Role)>, StoreError>;

    /// Stores a new shared ledger with `owner` as its owner.
    /// With `completion` stored in the same transaction.
    async fn create_ledger(
        &self,
        owner: &UserId,
        ledger: &Ledger,
        completion: Option<&Completion>,
    ) -> Result<(), StoreError>;

    /// Stores the ledger's new name and home currency (an owner's change).
    async fn update_ledger(
        &self,
        user: &UserId,
        id: &str,
        name: &str,
        home_currency: Option<Currency>,
        now: i64,
    ) -> Result<Checked<Ledger>, StoreError>;

    /// Marks a shared ledger deleted (an owner's change): from then on it
    /// is gone for every member; its rows are purged afterwards.
    async fn delete_ledger(
        &self,
        user: &UserId,
        id: &str,
        now: i64,
    ) -> Result<Checked<()>, StoreError>;

    /// The members of a ledger, by `joined_at`, then `user_id`.
    async fn members(&self, ledger_id: &str) -> Result<Vec<Member>, StoreError>;

    /// Gives `member` another role (an owner's change).
    async fn set_role(
        &self,
        user: &UserId,
        ledger_id: &str,
        member: &str,
        role: Role,
    ) -> Result<Checked<Member>, StoreError>;

    /// Removes `member` (an owner's change, or any member leaving).
    async fn remove_member(
        &self,
        user: &UserId,
        ledger_id: &str,
        member: &str,
    ) -> Result<Checked<()>, StoreError>;

    /// Stores an invitation whose code hashes to `code_hash` (an owner's),
    /// with `completion` in the same transaction.
    async fn create_invitation(
        &self,
        user: &UserId,
        invitation: &Invitation,
        code_hash: &str,
        completion: Option<&Completion>,
    ) -> Result<Checked<()>, StoreError>;

    /// The ledger's unused, unrevoked invitations that are live at `now`.
    async fn invitations(&self, ledger_id: &str, now: i64) -> Result<Vec<Invitation>, StoreError>;

    /// Revokes one of those (an owner's change).
    async fn revoke_invitation(
        &self,
        user: &UserId,
        ledger_id: &str,
        id: &str,
        now: i64,
    ) -> Result<Checked<()>, StoreError>;

    /// Accepts the invitation whose code hashes to `code_hash`.
    async fn accept_invitation(
        &self,
        user: &UserId,
        code_hash: &str,
        now: i64,
    ) -> Result<Accepted, StoreError>;

    /// Deletes what deleted ledgers held, in bounded batches, then the
    /// ledgers themselves; returns how many rows went. Safe to run again
    /// and alongside requests (a deleted ledger serves none).
    async fn purge_deleted_ledgers(&self) -> Result<u64, StoreError>;
}

/// The tables whose rows a ledger's key files (their `user_id` column),
/// children before parents: tags before expenses, budgets before
/// categories, though both would also cascade.
const FILED_BY_KEY: [&str; 6] = [
    "expense_tags",
    "expenses",
    "budgets",
    "categories",
    "expense_rollups",
    "idempotency_keys",
];

/// Deleted ledgers purged per run of the loop, and rows per statement.
const PURGE_LEDGERS: i64 = 10;
const PURGE_ROWS: u64 = 1000;

/// Deletes up to PURGE_ROWS rows of `table` filed under one key, so that no
/// statement holds MySQL's locks and undo for long. SQLite deletes them in
/// one statement: its write lock covers the whole file either way, and the
/// rollup table has no rowid to batch by.
fn delete_batch(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("DELETE FROM {table} WHERE user_id = ? LIMIT {PURGE_ROWS}"),
        Dialect::Sqlite => format!("DELETE FROM {table} WHERE user_id = ?"),
    }
}

const LEDGER_COLUMNS: &str =
    "l.id, l.ledger_key, l.name, l.home_currency, l.personal, l.created_at, l.updated_at";

fn ledger_from(row: &Row) -> Result<Ledger, StoreError> {
    let home_currency = match row[3].opt_text()? {
        None => None,
        Some(code) => Some(
            Currency::parse(&code)
                .ok_or_else(|| StoreError::Internal("unreadable home_currency".into()))?,
        ),
    };
    Ok(Ledger {
        id: row[0].text()?,
        key: row[1].text()?,
        name: row[2].text()?,
        home_currency,
        personal: row[4].int()? != 0,
        created_at: row[5].int()?,
        updated_at: row[6].int()?,
    })
}

/// A ledger's columns followed by the caller's role.
fn ledger_and_role(row: &Row) -> Result<(Ledger, Role), StoreError> {
    Ok((ledger_from(row)?, role_from(&row[7])?))
}

fn role_from(cell: &super::backend::Cell) -> Result<Role, StoreError> {
    Role::parse(&cell.text()?).ok_or_else(|| StoreError::Internal("unreadable role".into()))
}

/// ` FOR UPDATE` where the dialect locks rows (a SQLite write transaction
/// holds the whole database already).
fn for_update(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => " FOR UPDATE",
        Dialect::Sqlite => "",
    }
}

/// `INSERT` that leaves an existing row with the same key as it is.
fn insert_if_absent(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => "INSERT IGNORE",
        Dialect::Sqlite => "INSERT OR IGNORE",
    }
}

/// Locks a live ledger's row inside `tx`: `None` when it is gone.
async fn lock_ledger_row(
    tx: &mut Box<dyn Tx>,
    dialect: Dialect,
    ledger_id: &str,
) -> Result<Option<Ledger>, StoreError> {
    let sql = format!(
        "SELECT {LEDGER_COLUMNS} FROM ledgers l WHERE l.id = ? AND l.deleted_at IS NULL{}",
        for_update(dialect)
    );
    let rows = tx.query(&sql, vec![ledger_id.into()]).await?;
    rows.first().map(ledger_from).transpose()
}

/// `user`'s membership of a ledger, read inside `tx`.
async fn member_in(
    tx: &mut Box<dyn Tx>,
    ledger_id: &str,
    user: &str,
) -> Result<Option<Member>, StoreError> {
    let rows = tx
        .query(
            "SELECT user_id, role, joined_at FROM ledger_members WHERE ledger_id = ? AND user_id = ?",
            vec![ledger_id.into(), user.into()],
        )
        .await?;
    rows.first().map(member_from).transpose()
}

/// Checks, first thing in a write transaction in a shared ledger, that the
/// ledger is live and `user` one of its editors or owners; `NotMember`
/// (404) or `Forbidden` (403) otherwise. The ledger's row stays share-locked
/// until the write commits: writers run side by side, while a change of
/// members (which locks the row exclusively first) waits for them, and a
/// writer that comes after it waits and then reads its outcome. So once a
/// removal or a ledger's deletion has answered, the removed can write
/// nothing. (The member row is read by a statement of its own, after the
/// lock is granted, so it cannot be a snapshot from before the wait.)
pub(super) async fn check_writer(
    tx: &mut Box<dyn Tx>,
    dialect: Dialect,
    ledger_id: &str,
    user: &UserId,
) -> Result<(), StoreError> {
    let lock = match dialect {
        Dialect::Mysql => " LOCK IN SHARE MODE",
        Dialect::Sqlite => "",
    };
    let live = tx
        .query(
            &format!("SELECT 1 FROM ledgers WHERE id = ? AND deleted_at IS NULL{lock}"),
            vec![ledger_id.into()],
        )
        .await?;
    if live.is_empty() {
        return Err(StoreError::NotMember);
    }
    match member_in(tx, ledger_id, user.as_str()).await? {
        None => Err(StoreError::NotMember),
        Some(member) if !member.role.allows(Role::Editor) => Err(StoreError::Forbidden),
        Some(_) => Ok(()),
    }
}

/// Why a change was refused before it started.
enum Refusal {
    NotMember,
    Forbidden,
}

impl<T> From<Refusal> for Checked<T> {
    fn from(refusal: Refusal) -> Checked<T> {
        match refusal {
            Refusal::NotMember => Checked::NotMember,
            Refusal::Forbidden => Checked::Forbidden,
        }
    }
}

/// Locks a live ledger's row, then checks inside `tx` that the caller is a
/// member whose role may do what `needed` may: the ledger and that role.
async fn checked_owner(
    tx: &mut Box<dyn Tx>,
    dialect: Dialect,
    user: &UserId,
    ledger_id: &str,
    needed: Role,
) -> Result<Result<(Ledger, Role), Refusal>, StoreError> {
    let Some(ledger) = lock_ledger_row(tx, dialect, ledger_id).await? else {
        return Ok(Err(Refusal::NotMember));
    };
    Ok(match member_in(tx, ledger_id, user.as_str()).await? {
        None => Err(Refusal::NotMember),
        Some(member) if !member.role.allows(needed) => Err(Refusal::Forbidden),
        Some(member) => Ok((ledger, member.role)),
    })
}

async fn owners(tx: &mut Box<dyn Tx>, ledger_id: &str) -> Result<i64, StoreError> {
    let rows = tx
        .query(
            "SELECT COUNT(*) FROM ledger_members WHERE ledger_id = ? AND role = 'owner'",
            vec![ledger_id.into()],
        )
        .await?;
    rows.first().map_or(Ok(0), |row| row[0].int())
}

fn member_from(row: &Row) -> Result<Member, StoreError> {
    Ok(Member {
        user_id: row[0].text()?,
        role: role_from(&row[1])?,
        joined_at: row[2].int()?,
    })
}

fn invitation_from(row: &Row) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: row[0].text()?,
        ledger_id: row[1].text()?,
        role: role_from(&row[2])?,
        created_at: row[3].int()?,
        expires_at: row[4].int()?,
    })
}

/// Whether `member`'s membership is their own personal ledger's.
fn is_own_personal(ledger: &Ledger, member: &str) -> bool {
    ledger.personal && ledger.key == member
}

#[async_trait]
impl LedgerStore for SqlStore {
    async fn personal_ledger(&self, user: &UserId, now: i64) -> Result<Ledger, StoreError> {
        let dialect = self.backend().dialect();
        let select = format!("SELECT {LEDGER_COLUMNS} FROM ledgers l WHERE l.ledger_key = ?");
        let rows = self
            .bounded(self.backend().query(&select, vec![user.as_str().into()]))
            .await?;
        if let Some(row) = rows.first() {
            return personal(ledger_from(row)?);
        }
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            let id = crate::domain::new_id();
            tx.exec(
                &format!(
                    "{} INTO ledgers (id, ledger_key, name, home_currency, personal, created_at, updated_at) \
                     VALUES (?, ?, ?, NULL, 1, ?, ?)",
                    insert_if_absent(dialect)
                ),
                vec![
                    id.as_str().into(),
                    user.as_str().into(),
                    PERSONAL_LEDGER_NAME.into(),
                    now.into(),
                    now.into(),
                ],
            )
            .await?;
            let rows = tx.query(&select, vec![user.as_str().into()]).await?;
            let ledger = personal(ledger_from(rows.first().ok_or_else(|| {
                StoreError::Internal("personal ledger not found after insert".into())
            })?)?)?;
            tx.exec(
                &format!(
                    "{} INTO ledger_members (ledger_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)",
                    insert_if_absent(dialect)
                ),
                vec![ledger.id.as_str().into(), user.as_str().into(), ledger.created_at.into()],
            )
            .await?;
            tx.commit().await?;
            Ok(ledger)
        }))
        .await
    }

    async fn membership(
        &self,
        user: &UserId,
        ledger_id: &str,
    ) -> Result<Option<(Ledger, Role)>, StoreError> {
        let sql = format!(
            "SELECT {LEDGER_COLUMNS}, m.role FROM ledgers l \
             JOIN ledger_members m ON m.ledger_id = l.id \
             WHERE l.id = ? AND m.user_id = ? AND l.deleted_at IS NULL"
        );
        let rows = self
            .bounded(
                self.backend()
                    .query(&sql, vec![ledger_id.into(), user.as_str().into()]),
            )
            .await?;
        rows.first().map(ledger_and_role).transpose()
    }

    async fn ledgers_of(&self, user: &UserId) -> Result<Vec<(Ledger, Role)>, StoreError> {
        let sql = format!(
            "SELECT {LEDGER_COLUMNS}, m.role FROM ledger_members m \
             JOIN ledgers l ON l.id = m.ledger_id \
             WHERE m.user_id = ? AND l.deleted_at IS NULL"
        );
        let rows = self
            .bounded(self.backend().query(&sql, vec![user.as_str().into()]))
            .await?;
        let mut ledgers = rows
            .iter()
            .map(ledger_and_role)
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Personal first (the caller's own), then by lower-cased name, then id.
        ledgers.sort_by_cached_key(|(ledger, _)| {
            (
                !is_own_personal(ledger, user.as_str()),
                crate::domain::text::fold(&ledger.name),
                ledger.id.clone(),
            )
        });
        Ok(ledgers)
    }

    async fn create_ledger(
        &self,
        owner: &UserId,
        ledger: &Ledger,
        completion: Option<&Completion>,
    ) -> Result<(), StoreError> {
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            tx.exec(
                "INSERT INTO ledgers (id, ledger_key, name, home_currency, personal, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    ledger.id.as_str().into(),
                    ledger.key.as_str().into(),
                    ledger.name.as_str().into(),
                    ledger.home_currency.map(|c| c.code().to_owned()).into(),
                    i64::from(ledger.personal).into(),
                    ledger.created_at.into(),
                    ledger.updated_at.into(),
                ],
            )
            .await?;
            tx.exec(
                "INSERT INTO ledger_members (ledger_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)",
                vec![ledger.id.as_str().into(), owner.as_str().into(), ledger.created_at.into()],
            )
            .await?;
            if let Some(completion) = completion {
                complete(&mut *tx, completion).await?;
            }
            tx.commit().await
        }))
        .await
    }

    async fn update_ledger(
        &self,
        user: &UserId,
        id: &str,
        name: &str,
        home_currency: Option<Currency>,
        now: i64,
    ) -> Result<Checked<Ledger>, StoreError> {
        let dialect = self.backend().dialect();
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            let (mut ledger, _) =
                match checked_owner(&mut tx, dialect, user, id, Role::Owner).await? {
                    Ok(found) => found,
                    Err(refused) => return Ok(refused.into()),
                };
            tx.exec(
                "UPDATE ledgers SET name = ?, home_currency = ?, updated_at = ? WHERE id = ?",
                vec![
                    name.into(),
                    home_currency.map(|c| c.code().to_owned()).into(),
                    now.into(),
                    id.into(),
                ],
            )
            .await?;
            tx.commit().await?;
            ledger.name = name.to_owned();
            ledger.home_currency = home_currency;
            ledger.updated_at = now;
            Ok(Checked::Done(ledger))
        }))
        .await
    }

    async fn delete_ledger(
        &self,
        user: &UserId,
        id: &str,
        now: i64,
    ) -> Result<Checked<()>, StoreError> {
        let dialect = self.backend().dialect();
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            let (ledger, _) = match checked_owner(&mut tx, dialect, user, id, Role::Owner).await? {
                Ok(found) => found,
                Err(refused) => return Ok(refused.into()),
            };
            if ledger.personal {
                return Ok(Checked::Refused(PERSONAL_LEDGER));
            }
            tx.exec(
                "UPDATE ledgers SET deleted_at = ? WHERE id = ?",
                vec![now.into(), id.into()],
            )
            .await?;
            tx.commit().await?;
            Ok(Checked::Done(()))
        }))
        .await
    }

    async fn members(&self, ledger_id: &str) -> Result<Vec<Member>, StoreError> {
        let rows = self
            .bounded(self.backend().query(
                "SELECT user_id, role, joined_at FROM ledger_members WHERE ledger_id = ? \
                 ORDER BY joined_at, user_id",
                vec![ledger_id.into()],
            ))
            .await?;
        rows.iter().map(member_from).collect()
    }

    async fn set_role(
        &self,
        user: &UserId,
        ledger_id: &str,
        member: &str,
        role: Role,
    ) -> Result<Checked<Member>, StoreError> {
        let dialect = self.backend().dialect();
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            let (ledger, _) =
                match checked_owner(&mut tx, dialect, user, ledger_id, Role::Owner).await? {
                    Ok(found) => found,
                    Err(refused) => return Ok(refused.into()),
                };
            let Some(current) = member_in(&mut tx, ledger_id, member).await? else {
                return Ok(Checked::Missing);
            };
            if current.role == role {
                return Ok(Checked::Done(current));
            }
            if is_own_personal(&ledger, member) {
                return Ok(Checked::Refused(OWN_PERSONAL_MEMBERSHIP));
            }
            if current.role == Role::Owner && owners(&mut tx, ledger_id).await? <= 1 {
                return Ok(Checked::Refused(LAST_OWNER));
            }
            tx.exec(
                "UPDATE ledger_members SET role = ? WHERE ledger_id = ? AND user_id = ?",
                vec![role.as_str().into(), ledger_id.into(), member.into()],
            )
            .await?;
            tx.commit().await?;
            Ok(Checked::Done(Member { role, ..current }))
        }))
        .await
    }

    async fn remove_member(
        &self,
        user: &UserId,
        ledger_id: &str,
        member: &str,
    ) -> Result<Checked<()>, StoreError> {
        let dialect = self.backend().dialect();
        // Any member may leave; only an owner may remove someone else.
        let needed = if member == user.as_str() {
            Role::Viewer
        } else {
            Role::Owner
        };
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            let (ledger, _) = match checked_owner(&mut tx, dialect, user, ledger_id, needed).await?
            {
                Ok(found) => found,
                Err(refused) => return Ok(refused.into()),
            };
            let Some(current) = member_in(&mut tx, ledger_id, member).await? else {
                return Ok(Checked::Missing);
            };
            if is_own_personal(&ledger, member) {
                return Ok(Checked::Refused(OWN_PERSONAL_MEMBERSHIP));
            }
            if current.role == Role::Owner && owners(&mut tx, ledger_id).await? <= 1 {
                return Ok(Checked::Refused(LAST_OWNER));
            }
            tx.exec(
                "DELETE FROM ledger_members WHERE ledger_id = ? AND user_id = ?",
                vec![ledger_id.into(), member.into()],
            )
            .await?;
            tx.commit().await?;
            Ok(Checked::Done(()))
        }))
        .await
    }

    async fn create_invitation(
        &self,
        user: &UserId,
        invitation: &Invitation,
        code_hash: &str,
        completion: Option<&Completion>,
    ) -> Result<Checked<()>, StoreError> {
        let dialect = self.backend().dialect();
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            if let Err(refused) =
                checked_owner(&mut tx, dialect, user, &invitation.ledger_id, Role::Owner).await?
            {
                return Ok(refused.into());
            }
            tx.exec(
                "INSERT INTO invitations (id, ledger_id, code_hash, role, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    invitation.id.as_str().into(),
                    invitation.ledger_id.as_str().into(),
                    code_hash.into(),
                    invitation.role.as_str().into(),
                    invitation.created_at.into(),
                    invitation.expires_at.into(),
                ],
            )
            .await?;
            if let Some(completion) = completion {
                complete(&mut *tx, completion).await?;
            }
            tx.commit().await?;
            Ok(Checked::Done(()))
        }))
        .await
    }

    async fn invitations(&self, ledger_id: &str, now: i64) -> Result<Vec<Invitation>, StoreError> {
        let rows = self
            .bounded(self.backend().query(
                "SELECT id, ledger_id, role, created_at, expires_at FROM invitations \
                 WHERE ledger_id = ? AND expires_at > ? AND accepted_by IS NULL AND revoked_at IS NULL \
                 ORDER BY created_at, id",
                vec![ledger_id.into(), now.into()],
            ))
            .await?;
        rows.iter().map(invitation_from).collect()
    }

    async fn revoke_invitation(
        &self,
        user: &UserId,
        ledger_id: &str,
        id: &str,
        now: i64,
    ) -> Result<Checked<()>, StoreError> {
        let dialect = self.backend().dialect();
        self.bounded(retrying(|| async {
            let mut tx = self.backend().begin().await?;
            if let Err(refused) =
                checked_owner(&mut tx, dialect, user, ledger_id, Role::Owner).await?
            {
                return Ok(refused.into());
            }
            let revoked = tx
                .exec(
                    "UPDATE invitations SET revoked_at = ? WHERE ledger_id = ? AND id = ? \
                     AND expires_at > ? AND accepted_by IS NULL AND revoked_at IS NULL",
                    vec![now.into(), ledger_id.into(), id.into(), now.into()],
                )
                .await?;
            if revoked == 0 {
                return Ok(Checked::Missing);
            }
            tx.commit().await?;
            Ok(Checked::Done(()))
        }))
        .await
    }

    async fn purge_deleted_ledgers(&self) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let rows = self
                .bounded(self.backend().query(
                    &format!(
                        "SELECT id, ledger_key FROM ledgers WHERE deleted_at IS NOT NULL \
                         ORDER BY deleted_at LIMIT {PURGE_LEDGERS}"
                    ),
                    vec![],
                ))
                .await?;
            for row in &rows {
                let (id, key) = (row[0].text()?, row[1].text()?);
                purged += self.purge_key(&key).await?;
                // Its members and invitations go with it (and cascade).
                for sql in [
                    "DELETE FROM invitations WHERE ledger_id = ?",
                    "DELETE FROM ledger_members WHERE ledger_id = ?",
                    "DELETE FROM ledgers WHERE id = ? AND deleted_at IS NOT NULL",
                ] {
                    purged += self
                        .bounded(self.backend().exec(sql, vec![id.as_str().into()]))
                        .await?;
                }
            }
            if (rows.len() as i64) < PURGE_LEDGERS {
                return Ok(purged);
            }
        }
    }

    async fn accept_invitation(
        &self,
        user: &UserId,
        code_hash: &str,
        now: i64,
    ) -> Result<Accepted, StoreError> {
        let dialect = self.backend().dialect();
        let find = "SELECT ledger_id FROM invitations WHERE code_hash = ?";
        self.bounded(retrying(|| async {
            // The ledger's row first, as every other change to it does.
            let mut tx = self.backend().begin().await?;
            let rows = tx.query(find, vec![code_hash.into()]).await?;
            let Some(ledger_id) = rows.first().map(|row| row[0].text()).transpose()? else {
                return Ok(Accepted::NoSuchCode);
            };
            let Some(ledger) = lock_ledger_row(&mut tx, dialect, &ledger_id).await? else {
                return Ok(Accepted::NoSuchCode);
            };
            let rows = tx
                .query(
                    &format!(
                        "SELECT role, expires_at, accepted_by, revoked_at FROM invitations \
                         WHERE code_hash = ?{}",
                        for_update(dialect)
                    ),
                    vec![code_hash.into()],
                )
                .await?;
            let Some(row) = rows.first() else {
                return Ok(Accepted::NoSuchCode);
            };
            let role = role_from(&row[0])?;
            let accepted_by = row[2].opt_text()?;
            let current_role = member_in(&mut tx, &ledger.id, user.as_str())
                .await?
                .map(|m| m.role);
            if let Some(by) = accepted_by {
                // Who used the code gets the same answer again while they
                // are still a member.
                return Ok(match current_role {
                    Some(role) if by == user.as_str() => Accepted::Member(ledger, role),
                    _ => Accepted::NoSuchCode,
                });
            }
            if row[3].opt_int()?.is_some() || row[1].int()? <= now {
                return Ok(Accepted::NoSuchCode);
            }
            if current_role.is_some() {
                return Ok(Accepted::AlreadyMember);
            }
            tx.exec(
                "INSERT INTO ledger_members (ledger_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
                vec![
                    ledger.id.as_str().into(),
                    user.as_str().into(),
                    role.as_str().into(),
                    now.into(),
                ],
            )
            .await?;
            tx.exec(
                "UPDATE invitations SET accepted_by = ?, accepted_at = ? WHERE code_hash = ?",
                vec![user.as_str().into(), now.into(), code_hash.into()],
            )
            .await?;
            tx.commit().await?;
            Ok(Accepted::Member(ledger, role))
        }))
        .await
    }
}

impl SqlStore {
    /// Deletes everything filed under `key`, a batch per statement.
    async fn purge_key(&self, key: &str) -> Result<u64, StoreError> {
        let dialect = self.backend().dialect();
        let mut purged = 0;
        for table in FILED_BY_KEY {
            let sql = delete_batch(dialect, table);
            loop {
                let deleted = self
                    .bounded(self.backend().exec(&sql, vec![key.into()]))
                    .await?;
                purged += deleted;
                if deleted < PURGE_ROWS {
                    break;
                }
            }
        }
        Ok(purged)
    }
}

/// The row found under a user's key, which must be a personal ledger.
fn personal(ledger: Ledger) -> Result<Ledger, StoreError> {
    if ledger.personal {
        Ok(ledger)
    } else {
        Err(StoreError::Internal(
            "a token's sub equals a shared ledger's key".into(),
        ))
    }
}
