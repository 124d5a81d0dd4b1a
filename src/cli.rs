//! The operator's commands on the server itself: users, API tokens and the database schema.
//! They open the same database as `cairn serve` (from the same configuration) and can run
//! while it runs.

use crate::server::config::Config;
use anyhow::{bail, Context};
use cairn_core::{Services, SystemClock};
use cairn_model::{Grant, ProjectId, Role};
use std::io::BufRead;
use std::sync::Arc;

pub const USER_USAGE: &str = "\
Usage: cairn user create --email EMAIL [--role viewer|operator|admin] [--project ID|all]
       cairn user grant  --email EMAIL --role viewer|operator|admin [--project ID|all]

Creates a console user, or gives one a role. The role is in the console's project unless
--project names another project of its organization, or 'all' (every project of it).
The default role is viewer.

The password is never an argument (other users could read it in the process list): it is
read from the first line of standard input with --password-stdin, or from the
CAIRN_USER_PASSWORD environment variable. At least 12 characters.

Example:
  printf '%s\\n' \"$PASSWORD\" | cairn user create --email ops@example.com --role operator --password-stdin";

pub const TOKEN_USAGE: &str = "\
Usage: cairn token create --email EMAIL [--description TEXT] [--expires-in 30d|12h|2w|never]

Makes an API token for the user and prints it (only the token, on standard output; it is
not stored and cannot be shown again). With --expires-in it stops working that long from
now (1 hour to 366 days); without, it works until it is revoked. Exchange it for an access
token:

  curl -d grant_type=refresh_token -d client_id=cli -d refresh_token=TOKEN \\
       http://HOST/oauth/token

Revoke tokens in the console (API tokens page).";

pub const MIGRATE_USAGE: &str = "\
Usage: cairn migrate

Brings the database (CAIRN_DATABASE_URL, or cairn.db in CAIRN_DATA_DIR) to this version's
schema and exits. `cairn serve` does this too when it starts; run it on its own before
starting several instances of a new version against one PostgreSQL.";

/// Options of the form `--name value` (and bare flags), refusing unknown ones.
struct Options {
    values: Vec<(String, Option<String>)>,
}

impl Options {
    fn parse(args: &[String], with_value: &[&str], flags: &[&str]) -> anyhow::Result<Options> {
        let mut values = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            if with_value.contains(&name) {
                let value = match inline {
                    Some(value) => value,
                    None => args
                        .next()
                        .cloned()
                        .with_context(|| format!("{name} needs a value"))?,
                };
                values.push((name.to_owned(), Some(value)));
            } else if flags.contains(&name) && inline.is_none() {
                values.push((name.to_owned(), None));
            } else {
                bail!("unknown option '{arg}'");
            }
        }
        Ok(Options { values })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| n == name)
    }

    fn required(&self, name: &str) -> anyhow::Result<&str> {
        self.get(name)
            .with_context(|| format!("{name} is required"))
    }
}

fn wants_help(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--help" || a == "-h" || a == "help")
}

/// Services over the configured database: no engine, no background work, no data-directory
/// lock (a server may be running on it).
async fn services() -> anyhow::Result<(Services, cairn_core::Place)> {
    let config = Config::from_env()?;
    let store = open_store(&config).await?;
    let services = Services::builder(Arc::new(store), Arc::new(SystemClock), config.site).build();
    let scope = services.seed().await?;
    Ok((services, scope))
}

/// The configured database, its data directory made first (a fresh SQLite file lives there).
async fn open_store(config: &Config) -> anyhow::Result<cairn_store::SqlStore> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    Ok(cairn_store::SqlStore::open(&config.database_url).await?)
}

fn read_password(options: &Options) -> anyhow::Result<String> {
    if options.has("--password-stdin") {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    match std::env::var("CAIRN_USER_PASSWORD") {
        Ok(password) if !password.is_empty() => Ok(password),
        _ => bail!("give the password with --password-stdin or CAIRN_USER_PASSWORD"),
    }
}

fn role(options: &Options, default: Option<Role>) -> anyhow::Result<Role> {
    match options.get("--role") {
        Some(text) => Role::parse(text)
            .with_context(|| format!("--role '{text}' is not one of viewer, operator, admin")),
        None => default.context("--role is required"),
    }
}

/// `None` for every project of the organization.
fn project(options: &Options, scope: &cairn_core::Place) -> anyhow::Result<Option<ProjectId>> {
    match options.get("--project") {
        None => Ok(Some(scope.project_id.clone())),
        Some("all") => Ok(None),
        Some(text) => ProjectId::parse(text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("--project '{text}': {e}")),
    }
}

/// The option of a core field: `expiresIn` is `--expires-in`.
fn option_of(field: &str) -> String {
    let mut option = String::from("--");
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            option.push('-');
        }
        option.push(c.to_ascii_lowercase());
    }
    option
}

/// Field errors from the core, one line each, named as the options are.
fn explain(error: cairn_core::Error) -> anyhow::Error {
    match error {
        cairn_core::Error::Invalid(fields) => anyhow::anyhow!(fields
            .iter()
            .map(|(field, message)| format!("{}: {message}", option_of(field)))
            .collect::<Vec<_>>()
            .join("; ")),
        other => anyhow::anyhow!(other),
    }
}

pub async fn user(args: &[String]) -> anyhow::Result<()> {
    if args.is_empty() || wants_help(args) {
        println!("{USER_USAGE}");
        return Ok(());
    }
    let (command, rest) = (args[0].as_str(), &args[1..]);
    if !matches!(command, "create" | "grant") {
        bail!("unknown command 'user {command}'\n\n{USER_USAGE}");
    }
    let options = Options::parse(
        rest,
        &["--email", "--role", "--project"],
        &["--password-stdin"],
    )?;
    let email = options.required("--email")?;
    match command {
        "create" => {
            let role = role(&options, Some(Role::Viewer))?;
            let password = read_password(&options)?;
            let (services, scope) = services().await?;
            let project = project(&options, &scope)?;
            let user = services
                .create_user(
                    email,
                    &password,
                    role,
                    &scope.organization_id,
                    project.as_ref(),
                )
                .await
                .map_err(explain)?;
            eprintln!(
                "created {} ({}) as {} in {}",
                user.email,
                user.id,
                role.as_str(),
                project.map_or("every project".to_owned(), |p| format!("project {p}"))
            );
        }
        "grant" => {
            let role = role(&options, None)?;
            let (services, scope) = services().await?;
            let project = project(&options, &scope)?;
            let user = services.user_by_email(email).await.map_err(explain)?;
            services
                .grant(&Grant {
                    user_id: user.id.clone(),
                    organization_id: scope.organization_id.clone(),
                    project_id: project.clone(),
                    role,
                })
                .await
                .map_err(explain)?;
            eprintln!("{} is now {} there", user.email, role.as_str());
        }
        other => bail!("unknown command 'user {other}'\n\n{USER_USAGE}"),
    }
    Ok(())
}

pub async fn token(args: &[String]) -> anyhow::Result<()> {
    if args.is_empty() || wants_help(args) {
        println!("{TOKEN_USAGE}");
        return Ok(());
    }
    if args[0] != "create" {
        bail!("unknown command 'token {}'\n\n{TOKEN_USAGE}", args[0]);
    }
    let options = Options::parse(
        &args[1..],
        &["--email", "--description", "--expires-in"],
        &[],
    )?;
    let email = options.required("--email")?;
    let description = options
        .get("--description")
        .unwrap_or("made by cairn token create");
    let lifetime = cairn_core::access::parse_lifetime(options.get("--expires-in").unwrap_or(""))
        .map_err(|message| anyhow::anyhow!("--expires-in: {message}"))?;
    let (services, _) = services().await?;
    let user = services.user_by_email(email).await.map_err(explain)?;
    let (token, secret) = services
        .create_api_token_for(&user.id, description, lifetime)
        .await
        .map_err(explain)?;
    let until = token.expires.map_or("until revoked".to_owned(), |end| {
        format!("until {}", end.format("%Y-%m-%d %H:%M UTC"))
    });
    eprintln!(
        "API token {} for {}, working {until} (shown once):",
        token.id, user.email
    );
    println!("{secret}");
    Ok(())
}

pub async fn migrate(args: &[String]) -> anyhow::Result<()> {
    if wants_help(args) {
        println!("{MIGRATE_USAGE}");
        return Ok(());
    }
    if let Some(arg) = args.first() {
        bail!("unknown argument '{arg}'\n\n{MIGRATE_USAGE}");
    }
    let config = Config::from_env()?;
    open_store(&config).await?;
    println!(
        "database {} has this version's schema",
        cairn_store::redact(&config.database_url)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_take_values_both_ways_and_refuse_unknown_ones() {
        let options = Options::parse(
            &args("--email a@b.c --role=admin --password-stdin"),
            &["--email", "--role"],
            &["--password-stdin"],
        )
        .unwrap();
        assert_eq!(options.get("--email"), Some("a@b.c"));
        assert_eq!(options.get("--role"), Some("admin"));
        assert!(options.has("--password-stdin"));
        let unknown = Options::parse(&args("--pasword x"), &["--email"], &[])
            .err()
            .unwrap();
        assert_eq!(unknown.to_string(), "unknown option '--pasword'");
        let missing = Options::parse(&args("--email"), &["--email"], &[])
            .err()
            .unwrap();
        assert_eq!(missing.to_string(), "--email needs a value");
    }

    #[test]
    fn core_fields_are_named_as_the_options_are() {
        assert_eq!(option_of("email"), "--email");
        assert_eq!(option_of("expiresIn"), "--expires-in");
        let error = explain(cairn_core::Error::Invalid(
            [("expiresIn".to_owned(), "too long".to_owned())].into(),
        ));
        assert_eq!(error.to_string(), "--expires-in: too long");
    }

    #[tokio::test]
    async fn token_create_refuses_a_lifetime_it_cannot_read_or_allow_before_opening_anything() {
        let error = token(&args("create --email ops@example.com --expires-in 30days"))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "--expires-in: '30days' is not a lifetime: write it like 30d, 12h or 2w, or never"
        );
        let error = token(&args("create --email ops@example.com --expires-in 1000d"))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "--expires-in: a token lasts from 1 hour to 366 days, or until it is revoked"
        );
    }

    #[test]
    fn a_role_that_does_not_exist_is_named() {
        let options = Options::parse(&args("--role owner"), &["--role"], &[]).unwrap();
        let error = role(&options, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--role 'owner' is not one of viewer, operator, admin"
        );
    }
}
