//! The catalogue runs on its own thread: SQLite calls block, and the SIP core must not.
//! Jobs are closures run in order, so a recording's rows are written in the order asked.

use std::sync::mpsc;

use tapline_store::Catalogue;

type Job = Box<dyn FnOnce(&Catalogue) + Send>;

/// Cloneable handle to the catalogue thread.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Run `job` on the catalogue thread, without waiting.
    pub(crate) fn run(&self, job: impl FnOnce(&Catalogue) + Send + 'static) {
        if self.tx.send(Box::new(job)).is_err() {
            tracing::error!("catalogue thread is gone");
        }
    }

    /// Run `job` and get its result back.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Catalogue) -> T + Send + 'static,
    ) -> tokio::sync::oneshot::Receiver<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.run(move |c| {
            let _ = tx.send(job(c));
        });
        rx
    }
}

/// Open the catalogue and start its thread. The thread ends when every handle is dropped.
pub(crate) fn spawn(
    catalogue: Catalogue,
) -> std::io::Result<(StoreHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<Job>();
    let join = std::thread::Builder::new()
        .name("tapline-catalogue".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job(&catalogue);
            }
        })?;
    Ok((StoreHandle { tx }, join))
}
