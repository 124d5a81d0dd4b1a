//! A notifier that keeps what it is told.

use crate::ports::{Notification, Notifier};
use async_trait::async_trait;
use std::sync::Mutex;

/// Keeps every notification, for tests to read.
#[derive(Default)]
pub struct RecordingNotifier(Mutex<Vec<Notification>>);

impl RecordingNotifier {
    pub fn sent(&self) -> Vec<Notification> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notification: Notification) {
        self.0.lock().unwrap().push(notification);
    }
}
