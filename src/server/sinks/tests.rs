//! The sinks against real receivers on loopback: a webhook server, a server that never
//! answers, and an SMTP server (aiosmtpd from PyPI). The core runs on a real SQLite store
//! with the fake engine; the clock is manual where retries are timed.

use super::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use cairn_core::testkit::{FakeEngine, ManualClock, SnapshotBehaviour};
use cairn_core::{Clock, EngineError, Scope, Services, SiteConfig, SystemClock};
use cairn_model::{DeliveryStatus, EventSource, IntegrationRequest};
use std::sync::{Arc, Mutex};

const SECRET: &str = "whsec_0123456789abcdef";

/// What a receiver got: the headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A webhook receiver on loopback answering each request with the next scripted status
/// (then 200).
async fn receiver(script: Vec<StatusCode>) -> (String, Received) {
    let received: Received = Arc::default();
    let script = Arc::new(Mutex::new(script));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = received.clone();
            move |headers: HeaderMap, body: Bytes| {
                let received = received.clone();
                let script = script.clone();
                async move {
                    received.lock().unwrap().push((headers, body));
                    let mut script = script.lock().unwrap();
                    if script.is_empty() {
                        StatusCode::OK
                    } else {
                        script.remove(0)
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

struct World {
    services: Services,
    engine: Arc<FakeEngine>,
    scope: Scope,
    cluster: cairn_model::ClusterId,
    _dir: tempfile::TempDir,
}

async fn world(clock: Arc<dyn Clock>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_store::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("cairn.db").display()
    ))
    .await
    .unwrap();
    let engine = Arc::new(FakeEngine::default());
    let services = Services::builder(Arc::new(store), clock, SiteConfig::default())
        .engine(engine.clone())
        .deliverer(Arc::new(SinkDeliverer::new().unwrap()))
        .build();
    let scope = cairn_core::Scope::trusted(services.start().await.unwrap());
    let network = services.list_networks(&scope).await.unwrap()[0].id.clone();
    let cluster = services
        .create_cluster(&scope, &cairn_core::testkit::cluster_request(network))
        .await
        .unwrap();
    services.settle().await;
    World {
        services,
        engine,
        scope,
        cluster: cluster.id,
        _dir: dir,
    }
}

impl World {
    async fn integrate(&self, sink: Sink) -> cairn_model::Integration {
        self.services
            .create_integration(
                &self.scope,
                &IntegrationRequest {
                    description: "ops".into(),
                    source: EventSource::Notifications,
                    data: sink,
                },
            )
            .await
            .unwrap()
    }

    /// Starts a backup that fails with `why`, and waits until it has.
    async fn failed_backup(&self, why: &str) -> cairn_model::Backup {
        self.engine
            .snapshots(SnapshotBehaviour::Fail(EngineError::Failed(why.into())));
        let backup = self
            .services
            .create_backup(&self.scope, &self.cluster, "nightly")
            .await
            .unwrap();
        self.services.settle().await;
        backup
    }
}

#[test]
fn the_signature_is_hmac_sha256_as_rfc_4231_computes_it() {
    // RFC 4231, test case 2.
    assert_eq!(
        signature("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[tokio::test]
async fn each_failed_backup_reaches_the_webhook_once_signed_with_its_secret() {
    let w = world(Arc::new(SystemClock)).await;
    let (url, received) = receiver(vec![]).await;
    w.integrate(Sink::Webhook {
        url,
        secret: SECRET.into(),
    })
    .await;
    let first = w.failed_backup("disk full").await;
    let second = w.failed_backup("node 2 does not answer").await;
    assert_eq!(w.services.dispatch_due().await.unwrap(), 2);
    assert_eq!(w.services.dispatch_due().await.unwrap(), 0);

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "exactly one message per failed backup");
    let mut about = Vec::new();
    for (headers, body) in &received {
        let sent = headers[SIGNATURE_HEADER].to_str().unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        let hex = sent.strip_prefix("sha256=").unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        mac.verify_slice(&bytes).expect("the signature verifies");
        assert_eq!(headers["x-cairn-event"], "backup-failed");
        let json: serde_json::Value = serde_json::from_slice(body).unwrap();
        about.push(json["resourceId"].as_str().unwrap().to_owned());
    }
    about.sort();
    let mut expected = vec![first.id.to_string(), second.id.to_string()];
    expected.sort();
    assert_eq!(about, expected);
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_message_on_the_third_try() {
    let clock = Arc::new(ManualClock::at("2026-11-24T12:00:00Z"));
    let w = world(clock.clone()).await;
    let (url, received) = receiver(vec![
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::INTERNAL_SERVER_ERROR,
    ])
    .await;
    let integration = w
        .integrate(Sink::Webhook {
            url,
            secret: SECRET.into(),
        })
        .await;
    w.failed_backup("disk full").await;

    w.services.dispatch_due().await.unwrap();
    clock.advance(chrono::Duration::seconds(1));
    w.services.dispatch_due().await.unwrap();
    clock.advance(chrono::Duration::seconds(2));
    w.services.dispatch_due().await.unwrap();

    assert_eq!(received.lock().unwrap().len(), 3);
    let log = w
        .services
        .integration_deliveries(&w.scope, &integration.id, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Delivered);
    assert_eq!(log[0].attempts, 3);
    let bodies: Vec<Bytes> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| b.clone())
        .collect();
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "the same message each time"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_up_the_next_backup() {
    let w = world(Arc::new(SystemClock)).await;
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", silent.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn({
        let held = held.clone();
        async move {
            while let Ok((socket, _)) = silent.accept().await {
                held.lock().unwrap().push(socket);
            }
        }
    });
    let integration = w
        .integrate(Sink::Webhook {
            url,
            secret: SECRET.into(),
        })
        .await;
    let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = tokio::spawn({
        let services = w.services.clone();
        async move {
            services
                .run_deliveries(async {
                    let _ = stopping.await;
                })
                .await
        }
    });
    w.failed_backup("disk full").await;
    // The dispatcher is now waiting on the silent receiver.
    while held.lock().unwrap().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    w.engine.snapshots(SnapshotBehaviour::Succeed);
    let next = w
        .services
        .create_backup(&w.scope, &w.cluster, "next")
        .await
        .unwrap();
    w.services.settle().await;
    let next = w.services.get_backup(&w.scope, &next.id).await.unwrap();
    assert_eq!(next.status, cairn_model::BackupStatus::Available);
    let log = w
        .services
        .integration_deliveries(&w.scope, &integration.id, 10)
        .await
        .unwrap();
    assert_eq!(
        (log[0].status, log[0].attempts),
        (DeliveryStatus::Pending, 0),
        "the first try is still waiting for an answer while the next backup finished"
    );
    let _ = stop.send(());
    dispatcher.abort();
}

/// aiosmtpd, from the test setup's venv (`CAIRN_TEST_PYTHON`), storing mail in a maildir.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn smtp_server() -> Option<SmtpServer> {
    let Ok(python) = std::env::var("CAIRN_TEST_PYTHON") else {
        assert!(
            std::env::var("CAIRN_REQUIRE_SMTP").is_err(),
            "CAIRN_REQUIRE_SMTP is set but CAIRN_TEST_PYTHON is not"
        );
        eprintln!("note: CAIRN_TEST_PYTHON unset; the SMTP test is not run");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("inbox"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("aiosmtpd starts");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(SmtpServer {
                child,
                port,
                maildir,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("aiosmtpd did not listen on {port}");
}

#[tokio::test]
async fn an_smtp_server_receives_the_failure_by_mail() {
    let Some(smtp) = smtp_server().await else {
        return;
    };
    let w = world(Arc::new(SystemClock)).await;
    let integration = w
        .integrate(Sink::Email(EmailSink {
            smtp_host: "127.0.0.1".into(),
            smtp_port: smtp.port,
            from: "cairn@example.com".into(),
            to: vec!["ops@example.com".into()],
            username: None,
            password: None,
            starttls: false,
        }))
        .await;
    let backup = w.failed_backup("disk full").await;
    w.services.dispatch_due().await.unwrap();
    let log = w
        .services
        .integration_deliveries(&w.scope, &integration.id, 10)
        .await
        .unwrap();
    assert_eq!(
        log[0].status,
        DeliveryStatus::Delivered,
        "{:?}",
        log[0].last_error
    );

    let new = smtp.maildir.path().join("inbox").join("new");
    let mails: Vec<String> = std::fs::read_dir(&new)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        // Undo quoted-printable's soft line breaks.
        .map(|mail| mail.replace("=\r\n", "").replace("=\n", ""))
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: [Cairn] Backup nightly failed"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("To: ops@example.com"), "{}", mails[0]);
    assert!(mails[0].contains(backup.id.as_str()), "{}", mails[0]);
    assert!(mails[0].contains("disk full"), "{}", mails[0]);
}

#[tokio::test]
async fn a_failed_post_is_logged_without_the_address_which_may_be_the_secret() {
    let deliverer = SinkDeliverer::new().unwrap();
    let integration = cairn_model::Integration {
        id: cairn_model::IntegrationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
        organization_id: cairn_model::OrganizationId::parse("c1ev3l5o0aeu6ojco7c0").unwrap(),
        project_id: cairn_model::ProjectId::parse("c1ev3l5o0aeu6ojco7d0").unwrap(),
        description: "slack".into(),
        source: EventSource::Notifications,
        // Not a valid port: the request fails before connecting, with reqwest's own message.
        sink: Sink::Slack {
            url: "http://127.0.0.1:99999/services/T0/B0/XSECRETTOKEN".into(),
        },
        created: chrono::Utc::now(),
        updated: chrono::Utc::now(),
    };
    let event = cairn_model::Event {
        id: cairn_model::EventId::parse("c1ev3l5o0aeu6ojco7e0").unwrap(),
        organization_id: integration.organization_id.clone(),
        project_id: integration.project_id.clone(),
        kind: cairn_model::EventKind::Notification,
        category: "backup-failed".into(),
        subject: "Backup <!channel> failed".into(),
        message: "disk full".into(),
        resource_id: "x".into(),
        status: None,
        created: chrono::Utc::now(),
        closed: None,
    };
    let message = cairn_core::events::Outgoing {
        delivery_id: cairn_model::DeliveryId::parse("c1ev3l5o0aeu6ojco7f0").unwrap(),
        event,
        announces: None,
    };
    let error = deliverer.deliver(&integration, &message).await.unwrap_err();
    assert!(!error.contains("SECRETTOKEN"), "{error}");
    assert_eq!(
        slack_escape("Backup <!channel> & co"),
        "Backup &lt;!channel&gt; &amp; co"
    );
}

#[tokio::test]
async fn a_receiver_that_redirects_is_refused_and_the_redirect_is_not_followed() {
    let w = world(Arc::new(SystemClock)).await;
    let (elsewhere, reached) = receiver(vec![]).await;
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let elsewhere = elsewhere.clone();
            async move { axum::response::Redirect::temporary(&elsewhere) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let integration = w
        .integrate(Sink::Webhook {
            url,
            secret: SECRET.into(),
        })
        .await;
    w.failed_backup("disk full").await;
    w.services.dispatch_due().await.unwrap();
    let log = w
        .services
        .integration_deliveries(&w.scope, &integration.id, 10)
        .await
        .unwrap();
    assert_eq!(
        log[0].last_error.as_deref(),
        Some("the receiver answered 307")
    );
    assert!(
        reached.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn a_silent_receiver_does_not_hold_up_messages_to_others() {
    let w = world(Arc::new(SystemClock)).await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/hook", silent.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn({
        let held = held.clone();
        async move {
            while let Ok((socket, _)) = silent.accept().await {
                held.lock().unwrap().push(socket);
            }
        }
    });
    let stuck = w
        .integrate(Sink::Webhook {
            url: silent_url,
            secret: SECRET.into(),
        })
        .await;
    let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = tokio::spawn({
        let services = w.services.clone();
        async move {
            services
                .run_deliveries(async {
                    let _ = stopping.await;
                })
                .await
        }
    });
    w.failed_backup("disk full").await;
    while held.lock().unwrap().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Now a second integration and a second failure, while the first try still waits.
    let (url, received) = receiver(vec![]).await;
    w.integrate(Sink::Webhook {
        url,
        secret: SECRET.into(),
    })
    .await;
    w.failed_backup("node down").await;
    while received.lock().unwrap().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stuck_log = w
        .services
        .integration_deliveries(&w.scope, &stuck.id, 10)
        .await
        .unwrap();
    let first = stuck_log.last().unwrap();
    assert_eq!(
        (first.status, first.attempts),
        (DeliveryStatus::Pending, 0),
        "the other message arrived while the first try was still waiting"
    );
    let _ = stop.send(());
    dispatcher.abort();
}
