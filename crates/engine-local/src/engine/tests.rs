use super::repositories::without_userinfo;
use super::*;

#[test]
fn where_a_repository_is_never_shows_credentials() {
    let place = RepositoryPlace {
        url: "s3://backups/cairn".into(),
        s3: cairn_snapshot::S3Settings {
            endpoint: Some("https://ops:hunter2@s3.example/base".into()),
            secret_access_key: Some("hunter3".into()),
            ..Default::default()
        },
    };
    assert_eq!(
        place.describe(),
        "s3://backups/cairn at https://s3.example/base"
    );
    assert!(!format!("{place:?}").contains("hunter3"));
    assert_eq!(
        without_userinfo("http://127.0.0.1:9000"),
        "http://127.0.0.1:9000"
    );
}
