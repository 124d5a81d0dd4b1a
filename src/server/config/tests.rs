use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load(&env(pairs), Some(PathBuf::from("/home/u/.local/share")))
}

#[test]
fn with_nothing_set_cairn_uses_sqlite_in_the_user_data_dir_on_port_3000() {
    let config = load(&[]).unwrap();
    assert_eq!(config.data_dir, PathBuf::from("/home/u/.local/share/cairn"));
    assert_eq!(
        config.database_url,
        "sqlite:///home/u/.local/share/cairn/cairn.db"
    );
    assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
    assert_eq!(config.site.regions, ["local-1", "local-2"]);
    assert_eq!(config.site.provider, "local");
    assert_eq!(config.config_file, None);
}

#[test]
fn the_data_dir_variable_moves_the_database_with_it() {
    let config = load(&[(DATA_DIR, "/srv/cairn")]).unwrap();
    assert_eq!(config.database_url, "sqlite:///srv/cairn/cairn.db");
}

#[test]
fn a_bad_listen_address_is_an_error_naming_the_variable() {
    let error = load(&[(SITE_ADDR, "3000")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "LEPTOS_SITE_ADDR: '3000' is not a listen address like 127.0.0.1:3000"
    );
}

#[test]
fn a_database_url_of_an_unknown_kind_is_refused_without_showing_its_password() {
    let error = load(&[(DATABASE_URL, "mysql://root:hunter2@db/cairn")]).unwrap_err();
    assert_eq!(error.source, DATABASE_URL);
    assert!(!error.message.contains("hunter2"), "{error}");
}

#[test]
fn a_postgres_url_selects_postgres() {
    let url = "postgres://cairn@127.0.0.1:5432/cairn";
    assert_eq!(load(&[(DATABASE_URL, url)]).unwrap().database_url, url);
}

#[test]
fn regions_are_read_from_a_comma_list_and_checked() {
    let config = load(&[(REGIONS, "eu-west-1, eu-west-2")]).unwrap();
    assert_eq!(config.site.regions, ["eu-west-1", "eu-west-2"]);
    let error = load(&[(REGIONS, "eu-west-1,EU West")]).unwrap_err();
    assert_eq!(error.source, REGIONS);
    assert!(error.message.contains("'EU West'"), "{error}");
    let error = load(&[(REGIONS, "a,a")]).unwrap_err();
    assert_eq!(error.message, "region 'a' is listed twice");
}

#[test]
fn a_relative_data_dir_is_refused() {
    let error = load(&[(DATA_DIR, "data")]).unwrap_err();
    assert_eq!(error.source, DATA_DIR);
}

#[test]
fn the_toml_file_in_the_data_dir_is_read_and_the_environment_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(CONFIG_FILE_NAME),
        "site_addr = \"0.0.0.0:8080\"\nregions = [\"west\"]\nprovider = \"aws\"\n",
    )
    .unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let config = load(&[(DATA_DIR, data_dir)]).unwrap();
    assert_eq!(config.site_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(config.site.regions, ["west"]);
    assert_eq!(config.site.provider, "aws");
    assert_eq!(config.config_file, Some(dir.path().join(CONFIG_FILE_NAME)));

    let config = load(&[(DATA_DIR, data_dir), (SITE_ADDR, "127.0.0.1:9")]).unwrap();
    assert_eq!(config.site_addr.to_string(), "127.0.0.1:9");
}

#[test]
fn a_bad_value_in_the_toml_file_names_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(&file, "regions = [\"Nope!\"]\n").unwrap();
    let error = load(&[(CONFIG_FILE, file.to_str().unwrap())]).unwrap_err();
    assert_eq!(error.source, format!("{}: regions", file.display()));

    std::fs::write(&file, "site_adress = \"x\"\n").unwrap();
    let error = load(&[(CONFIG_FILE, file.to_str().unwrap())]).unwrap_err();
    assert!(error.message.contains("site_adress"), "{error}");
}

#[test]
fn a_snapshot_read_limit_is_a_rate_with_a_binary_unit_and_a_bad_one_is_named() {
    assert_eq!(load(&[]).unwrap().snapshot_read_limit, None);
    let limit = |text: &str| load(&[(SNAPSHOT_READ_LIMIT, text)]);
    assert_eq!(limit("50MiB").unwrap().snapshot_read_limit, Some(50 << 20));
    assert_eq!(
        limit("512 KiB").unwrap().snapshot_read_limit,
        Some(512 << 10)
    );
    assert_eq!(limit("4096").unwrap().snapshot_read_limit, Some(4096));
    assert_eq!(limit("0").unwrap().snapshot_read_limit, None);
    assert_eq!(limit("none").unwrap().snapshot_read_limit, None);
    let error = limit("fast").unwrap_err();
    assert_eq!(error.source, SNAPSHOT_READ_LIMIT);
    assert!(error.message.contains("'fast'"), "{error}");
    assert!(limit("50MB/s").is_err());
}

#[test]
fn repositories_default_to_the_data_dir_encrypted_with_a_key_kept_there() {
    let config = load(&[]).unwrap();
    assert!(config.repositories.is_empty());
    assert!(config.encrypt_repositories);
    assert_eq!(
        config.repository_key,
        PathBuf::from("/home/u/.local/share/cairn/repository.key")
    );
}

#[test]
fn one_repository_url_gives_each_region_its_own_prefix_with_the_usual_s3_settings() {
    let config = load(&[
        (REPOSITORY_URL, "s3://backups/cairn/"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
        ("AWS_ACCESS_KEY_ID", "id"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ])
    .unwrap();
    let west = &config.repositories["local-2"];
    assert_eq!(west.url, "s3://backups/cairn/local-2");
    assert_eq!(west.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(west.access_key_id.as_deref(), Some("id"));
    assert_eq!(
        config.repositories["local-1"].url,
        "s3://backups/cairn/local-1"
    );
}

#[test]
fn a_region_of_the_toml_file_gets_its_own_repository_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cairn.toml");
    std::fs::write(
        &file,
        "[repositories.local-2]\nurl = \"s3://offsite/cairn\"\nendpoint = \"https://s3.example\"\n",
    )
    .unwrap();
    let config = load(&[(CONFIG_FILE, file.to_str().unwrap())]).unwrap();
    assert_eq!(config.repositories["local-2"].url, "s3://offsite/cairn");
    assert_eq!(
        config.repositories["local-2"].endpoint.as_deref(),
        Some("https://s3.example")
    );
    assert!(!config.repositories.contains_key("local-1"));

    std::fs::write(&file, "[repositories.mars]\nurl = \"/srv/b\"\n").unwrap();
    let error = load(&[(CONFIG_FILE, file.to_str().unwrap())]).unwrap_err();
    assert!(error.source.ends_with("repositories.mars"), "{error}");
    std::fs::write(&file, "[repositories.local-1]\nurl = \"relative/b\"\n").unwrap();
    let error = load(&[(CONFIG_FILE, file.to_str().unwrap())]).unwrap_err();
    assert!(
        error.source.ends_with("repositories.local-1.url"),
        "{error}"
    );
    let error = load(&[(REPOSITORY_URL, "ftp://x/y")]).unwrap_err();
    assert_eq!(error.source, REPOSITORY_URL);
    let error = load(&[(REPOSITORY_URL, "s3://id:secret@bucket/p")]).unwrap_err();
    assert!(!error.to_string().contains("secret@"), "{error}");
    let with_secret = load(&[
        (REPOSITORY_URL, "s3://b/p"),
        ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        (ADMIN_EMAIL, "ops@example.com"),
        (ADMIN_PASSWORD, "correct horse battery"),
    ])
    .unwrap();
    let shown = format!("{with_secret:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("correct horse"),
        "{shown}"
    );
    let error = load(&[(REPOSITORY_ENCRYPTION, "maybe")]).unwrap_err();
    assert_eq!(error.source, REPOSITORY_ENCRYPTION);
    assert!(
        !load(&[(REPOSITORY_ENCRYPTION, "off")])
            .unwrap()
            .encrypt_repositories
    );
}

#[test]
fn a_named_config_file_that_is_missing_is_an_error() {
    let error = load(&[(CONFIG_FILE, "/nonexistent/cairn.toml")]).unwrap_err();
    assert_eq!(error.source, CONFIG_FILE);
}
