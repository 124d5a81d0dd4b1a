//! The [`Store`](cairn_core::Store) port over a SQL database, chosen by URL at run time:
//! `sqlite://…` (the embedded default: one file, WAL) or `postgres://…` (scale-out).
//!
//! Both databases run the same SQL text: each query body is written once inside
//! [`on_pool!`], which expands it for the SQLite pool and for the PostgreSQL pool, so each
//! side is type-checked with its own driver's native types (no lowest-common-denominator
//! `Any` driver). Schema migrations differ per database and live in `migrations/<db>/`.

mod rows;

use cairn_core::{Error as CoreError, Result as CoreResult};
use cairn_model::{Order, Page, PageRequest, ProjectId};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::FromRow;
use std::str::FromStr;
use std::time::Duration;

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL '{0}' is not supported: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate database {url}: {source}")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
}

impl From<StoreError> for CoreError {
    fn from(error: StoreError) -> Self {
        CoreError::internal_from(error)
    }
}

/// A query's error as the core sees it: `query.await.db()?` in the aggregates' methods.
trait Db<T> {
    fn db(self) -> CoreResult<T>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> CoreResult<T> {
        self.map_err(|error| StoreError::from(error).into())
    }
}

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    fn is_postgres(&self) -> bool {
        matches!(self, Pool::Postgres(_))
    }
}

/// Runs the same body against whichever pool is open, binding `$p` to it.
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

/// Runs a statement built with its binds (`sqlx::query(…).bind(…)`) on whichever pool is
/// open; its value is how many rows the statement changed.
macro_rules! run {
    ($store:expr, $query:expr) => {
        on_pool!(&$store.pool, |p| $query
            .execute(p)
            .await
            .db()?
            .rows_affected())
    };
}

/// [`run!`] for `$sql` with the `$arg`s bound to `$1`, `$2`, … in order.
macro_rules! execute {
    ($store:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        run!($store, sqlx::query($sql)$(.bind($arg))*)
    };
}

/// Runs `$query` on whichever pool is open, the text `$binds` (ids, statuses) bound in order,
/// and fetches with `$fetch` (`fetch_all`, `fetch_optional`, `fetch_one`).
macro_rules! read {
    ($store:expr, $query:expr, $binds:expr, $fetch:ident) => {
        on_pool!(&$store.pool, |p| {
            let mut query = $query;
            for value in $binds {
                query = query.bind(*value);
            }
            query.$fetch(p).await
        })
    };
}

/// A row type both drivers can decode.
trait Row: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}

impl<R> Row for R where R: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{}

/// A row and its checked conversion into `M`, what the core works with (in `rows`); a row that
/// does not convert is reported as corrupt.
trait IntoModel<M>: Row {
    fn into_model(self) -> CoreResult<M>;
}

/// The row of a table holding one project's resources (clusters, backups, jobs, networks), each
/// deleted by setting `status = 'deleted'`: reads by project go through
/// [`SqlStore::in_project`] and [`SqlStore::live_in_project`].
trait InProject<M>: IntoModel<M> {
    const TABLE: &'static str;
    const COLUMNS: &'static str;
}

/// A value bound to a listing's query: text (ids, statuses, patterns) or a time.
enum Arg {
    Text(String),
    Time(DateTime<Utc>),
}

/// One page of a list, read by keyset (`cairn_model::paging`): the table's rows that meet
/// every condition the list's filters add, after the token's row by `(created, id)` (never an
/// OFFSET: the database starts at the token in the index), in the request's order, one row
/// more than the page to tell whether another follows. [`SqlStore::page`] runs it.
struct Listing {
    columns: &'static str,
    table: &'static str,
    /// The column a row's creation is in (`created`; `start_time` for runs).
    created: &'static str,
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Listing {
    fn new(columns: &'static str, table: &'static str, created: &'static str) -> Self {
        Listing {
            columns,
            table,
            created,
            conditions: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Binds `arg`; its placeholder (`$3`).
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds a condition, `{}` in it standing for `value` bound.
    fn when(&mut self, condition: &str, value: &str) -> &mut Self {
        let placeholder = self.bind(Arg::Text(value.to_owned()));
        self.conditions.push(condition.replace("{}", &placeholder));
        self
    }

    /// Adds `condition` as it is (no value).
    fn always(&mut self, condition: &str) -> &mut Self {
        self.conditions.push(condition.to_owned());
        self
    }

    /// `column = value` when a value is given.
    fn equals(&mut self, column: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.when(&format!("{column} = {{}}"), value);
        }
        self
    }

    /// When `q` is given: it is in one of `columns`, in any case (`%` and `_` in it are
    /// themselves). SQLite lowers ASCII letters only, so there other letters match their case.
    fn search(&mut self, q: Option<&str>, columns: &[&str]) -> &mut Self {
        let Some(q) = q else {
            return self;
        };
        let mut pattern = String::from("%");
        for c in q.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let placeholder = self.bind(Arg::Text(pattern));
        let any: Vec<String> = columns
            .iter()
            .map(|column| format!("LOWER({column}) LIKE {placeholder} ESCAPE '\\'"))
            .collect();
        self.conditions.push(format!("({})", any.join(" OR ")));
        self
    }

    /// The query of the page `request` asks for.
    fn sql(&mut self, request: &PageRequest) -> String {
        let (after, direction) = match request.order {
            Order::Desc => ("<", "DESC"),
            Order::Asc => (">", "ASC"),
        };
        if let Some(token) = &request.token {
            let created = self.bind(Arg::Time(token.created));
            let id = self.bind(Arg::Text(token.id.clone()));
            let column = self.created;
            self.conditions.push(format!(
                "({column} {after} {created} OR ({column} = {created} AND id {after} {id}))"
            ));
        }
        let conditions = if self.conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            self.conditions.join(" AND ")
        };
        format!(
            "SELECT {} FROM {} WHERE {conditions} ORDER BY {} {direction}, id {direction} LIMIT {}",
            self.columns,
            self.table,
            self.created,
            u64::from(request.size) + 1
        )
    }
}

// One `impl` of a core store trait per aggregate; each uses `on_pool!`, so they come after it.
mod access;
mod audit;
mod backups;
mod clusters;
mod jobs;
mod outbox;
mod tenancy;

pub struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    /// Opens (creating the SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let shown = redact(url);
        let open_error = |source| StoreError::Open {
            url: shown.clone(),
            source,
        };
        let migrate_error = |source| StoreError::Migrate {
            url: shown.clone(),
            source,
        };
        let (pool, migrations) = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(open_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(open_error)?;
            (Pool::Sqlite(pool), sqlx::migrate!("./migrations/sqlite"))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(open_error)?;
            (
                Pool::Postgres(pool),
                sqlx::migrate!("./migrations/postgres"),
            )
        } else {
            return Err(StoreError::UnsupportedUrl(shown));
        };
        on_pool!(&pool, |p| migrations.run(p).await).map_err(migrate_error)?;
        Ok(Self { pool })
    }

    /// Runs a read whose parameters are all text (ids, statuses) and decodes every row.
    async fn fetch_all<R: Row>(&self, sql: &str, binds: &[&str]) -> Result<Vec<R>, StoreError> {
        Ok(read!(self, sqlx::query_as::<_, R>(sql), binds, fetch_all)?)
    }

    /// [`SqlStore::fetch_all`], every row converted into its model.
    async fn all<R: IntoModel<M>, M>(&self, sql: &str, binds: &[&str]) -> CoreResult<Vec<M>> {
        let rows: Vec<R> = self.fetch_all(sql, binds).await?;
        rows.into_iter().map(R::into_model).collect()
    }

    /// A read of at most one row (by its key, or `LIMIT 1`), converted into its model.
    async fn one<R: IntoModel<M>, M>(&self, sql: &str, binds: &[&str]) -> CoreResult<Option<M>> {
        let row = read!(self, sqlx::query_as::<_, R>(sql), binds, fetch_optional).db()?;
        row.map(R::into_model).transpose()
    }

    /// One of a project's resources by id, deleted ones included (their pages still show them);
    /// `None` when the id is another project's.
    async fn in_project<R: InProject<M>, M>(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> CoreResult<Option<M>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE project_id = $1 AND id = $2",
            R::COLUMNS,
            R::TABLE
        );
        self.one::<R, M>(&sql, &[project.as_str(), id]).await
    }

    /// A project's resources that are not deleted, oldest first.
    async fn live_in_project<R: InProject<M>, M>(&self, project: &ProjectId) -> CoreResult<Vec<M>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id",
            R::COLUMNS,
            R::TABLE
        );
        self.all::<R, M>(&sql, &[project.as_str()]).await
    }

    /// Reads the page of `listing` that `request` asks for; `key` is a row's `(created, id)`,
    /// which the next page's token names.
    async fn page<R: IntoModel<M>, M>(
        &self,
        mut listing: Listing,
        request: &PageRequest,
        key: impl Fn(&M) -> (DateTime<Utc>, String),
    ) -> CoreResult<Page<M>> {
        let sql = listing.sql(request);
        let rows: Vec<R> = on_pool!(&self.pool, |p| {
            let mut query = sqlx::query_as::<_, R>(&sql);
            for arg in &listing.args {
                query = match arg {
                    Arg::Text(text) => query.bind(text.as_str()),
                    Arg::Time(time) => query.bind(*time),
                };
            }
            query.fetch_all(p).await.db()?
        });
        let models = rows
            .into_iter()
            .map(R::into_model)
            .collect::<CoreResult<Vec<M>>>()?;
        Ok(Page::from_rows(models, request, key))
    }

    /// Runs a `SELECT COUNT(*)` whose parameters are all text.
    async fn count(&self, sql: &str, binds: &[&str]) -> CoreResult<u64> {
        let n: i64 = read!(self, sqlx::query_scalar::<_, i64>(sql), binds, fetch_one).db()?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Runs `statements` in order in one transaction, each with `$1` bound to `before`; how many
    /// rows the last one deleted (those before it delete what refers to them).
    async fn prune(&self, statements: &[&str], before: DateTime<Utc>) -> CoreResult<u64> {
        Ok(on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            let mut pruned = 0;
            for &sql in statements {
                pruned = sqlx::query(sql)
                    .bind(before)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
            }
            tx.commit().await.db()?;
            pruned
        }))
    }

    /// `sqlite` or `postgres`, for logs and the about page.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }
}

/// An update that matched no row means the resource is not there.
fn found(rows: u64, what: &'static str, id: &str) -> CoreResult<()> {
    if rows == 0 {
        return Err(CoreError::NotFound {
            what,
            id: id.to_owned(),
        });
    }
    Ok(())
}

/// `value` as JSON text, for a column that holds it.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> CoreResult<String> {
    serde_json::to_string(value).map_err(CoreError::internal)
}

/// Hides the password of a URL so it can be logged or shown in an error.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_password_never_appears_in_what_is_shown() {
        assert_eq!(
            redact("postgres://cairn:s3cret@db.internal:5432/cairn"),
            "postgres://cairn:***@db.internal:5432/cairn"
        );
        assert_eq!(
            redact("sqlite:///var/lib/cairn/cairn.db"),
            "sqlite:///var/lib/cairn/cairn.db"
        );
    }
}
