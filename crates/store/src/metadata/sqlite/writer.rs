//! The SQLite store's writer: one thread that owns the one read-write connection and runs every
//! write transaction of the process, as many as are waiting in one SQLite transaction (group
//! commit).
//!
//! A write is a sequence of `metadata::writes` over a [`WriteTx`](crate::metadata::writes::WriteTx);
//! here its statements (`statements`) are rusqlite calls that are done when they return, so the
//! whole sequence runs on the writer thread in one go: one handoff from the caller to this thread
//! and one back, where sqlx would hand every statement to its connection's thread and back.
//!
//! Sequences that arrive while a batch runs or commits wait for the next batch, and each batch
//! is one `BEGIN IMMEDIATE ... COMMIT`: with `synchronous=FULL`, one fsync of the WAL for all of
//! them. Before committing, the thread yields once so that the threads handing it writes can
//! add those they have ready (on a busy core this makes batches several times larger). Within a batch each sequence runs inside a savepoint, so one that fails (its checks
//! refuse, or a statement fails) rolls back alone. Answers are sent only after the batch has
//! committed: an acknowledged write is durable, and a refused one changed nothing. When SQLite
//! gives up the whole transaction (an I/O error, a full disk) or the commit fails, every
//! sequence of the batch is answered with that failure, and none of them happened.
//!
//! A caller that stops waiting (its request was dropped) does not withdraw its sequence: it
//! runs, and commits or not, as if the caller had waited.

use super::checkpointer::Checkpointer;
use super::errors::rusqlite_kind;
use crate::metadata::writes::WriteTx;
use crate::{BackendFailure, FailureKind, StoreError, StoreResult};
use rusqlite::Connection;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::task::{Context, Poll, Waker};
use tokio::sync::oneshot;

/// At most this many sequences share one transaction, so that a long queue still sees commits.
const MAX_BATCH: usize = 128;

/// The writer thread's connection; each sequence's transaction object holds it too.
pub(super) type Shared = Arc<Mutex<Connection>>;

/// What a sequence answers once its batch has ended: its own outcome, unless the batch was
/// lost.
type Answer = Box<dyn FnOnce(Option<&Lost>) + Send>;
/// A sequence to run in the current batch (`Ok`), or to refuse because the batch could not
/// begin (`Err`).
type Job = Box<dyn FnOnce(Result<&Shared, &Lost>) -> Answer + Send>;

/// Why a whole batch did not commit.
#[derive(Debug, Clone)]
struct Lost {
    kind: FailureKind,
    cause: String,
}

impl Lost {
    fn from_sqlite(e: &rusqlite::Error) -> Self {
        Self {
            kind: rusqlite_kind(e),
            cause: e.to_string(),
        }
    }

    fn error(&self) -> StoreError {
        StoreError::Backend(BackendFailure::new(
            self.kind,
            format!("the write's SQLite transaction did not commit: {}", self.cause),
        ))
    }
}

fn closed() -> StoreError {
    StoreError::Backend(BackendFailure::new(
        FailureKind::Unavailable,
        "the SQLite store is closed",
    ))
}

/// The handle of the writer thread.
#[derive(Debug)]
pub(super) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread on `connection` (read-write, migrated, configured), which asks
    /// `checkpointer` for a checkpoint after its commits.
    pub(super) fn start(connection: Connection, checkpointer: Checkpointer) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(Arc::new(Mutex::new(connection)), &queue, &checkpointer))?;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `sequence` on the writer thread, in the next batch, and returns its outcome once the
    /// batch has committed (or failed).
    pub(super) async fn run<T, F, Fut>(&self, sequence: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn WriteTx>) -> Fut + Send + 'static,
        Fut: Future<Output = StoreResult<T>>,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |batch| {
            let outcome = match batch {
                Ok(connection) => match super::statements::Write::begin(connection) {
                    Ok(tx) => complete_now(sequence(Box::new(tx))),
                    Err(e) => Err(e),
                },
                Err(lost) => Err(lost.error()),
            };
            Box::new(move |lost: Option<&Lost>| {
                let outcome = match (outcome, lost) {
                    (Ok(_), Some(lost)) => Err(lost.error()),
                    (outcome, _) => outcome,
                };
                let _ = answer.send(outcome);
            })
        });
        let sent = match &*self.jobs.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(closed());
        }
        // A dropped answer means the sequence panicked (its batch was rolled back), or the
        // writer thread is gone.
        answered.await.map_err(|_| {
            StoreError::Backend(BackendFailure::new(
                FailureKind::Other,
                "the write did not complete: its sequence panicked, or the SQLite writer stopped",
            ))
        })?
    }

    /// Lets the thread finish the sequences already sent, then waits for it to close the
    /// connection. Writes after this fail as unavailable.
    pub(super) async fn close(&self) {
        drop(self.jobs.lock().unwrap_or_else(PoisonError::into_inner).take());
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Polls a sequence whose statements are all synchronous: it completes on its first poll.
fn complete_now<F: Future>(sequence: F) -> F::Output {
    let mut sequence = pin!(sequence);
    match sequence.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a SQLite write sequence waited on something other than its statements"),
    }
}

fn execute(connection: &Shared, sql: &str) -> rusqlite::Result<()> {
    connection
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .execute_batch(sql)
}

fn in_transaction(connection: &Shared) -> bool {
    !connection
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_autocommit()
}

/// The writer thread: batch after batch until every sender is gone.
fn serve(connection: Shared, queue: &mpsc::Receiver<Job>, checkpointer: &Checkpointer) {
    while let Ok(first) = queue.recv() {
        if let Err(e) = execute(&connection, "BEGIN IMMEDIATE") {
            let lost = Lost::from_sqlite(&e);
            first(Err(&lost))(None);
            continue;
        }
        let mut answers = Vec::new();
        let mut lost = None;
        let mut next = Some(first);
        let mut yielded = false;
        while let Some(job) = next.take() {
            match catch_unwind(AssertUnwindSafe(|| job(Ok(&connection)))) {
                Ok(answer) => answers.push(answer),
                Err(_) => {
                    lost = Some(Lost {
                        kind: FailureKind::Other,
                        cause: "a write sequence panicked".into(),
                    });
                    break;
                }
            }
            if !in_transaction(&connection) {
                lost = Some(Lost {
                    kind: FailureKind::Unavailable,
                    cause: "SQLite rolled the transaction back after a failed statement".into(),
                });
                break;
            }
            if answers.len() < MAX_BATCH {
                next = queue.try_recv().ok();
                if next.is_none() && !yielded {
                    // Before committing, let the threads that hand us writes run once: on a
                    // busy core they may have more ready, which then share this commit.
                    yielded = true;
                    std::thread::yield_now();
                    next = queue.try_recv().ok();
                }
            }
        }
        if lost.is_none()
            && let Err(e) = execute(&connection, "COMMIT")
        {
            lost = Some(Lost::from_sqlite(&e));
        }
        if lost.is_some() && in_transaction(&connection) {
            let _ = execute(&connection, "ROLLBACK");
        }
        if lost.is_none() {
            checkpointer.after_commit();
        }
        for answer in answers {
            answer(lost.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::super::commit_watch::CommitWatch;
    use crate::StoreError;
    use crate::metadata::{MetadataStore, NewBucket};
    use cloudnexus_core::{
        Bucket, BucketId, BucketName, BucketRef, ProjectId, ProjectName, RegionSet, StorageClass, Tags, Timestamp,
    };
    use std::future::Future;
    use std::pin::Pin;

    fn new_bucket(project: &ProjectId, name: &str, region: &str) -> NewBucket {
        NewBucket {
            id: BucketId::generate(),
            project_id: project.clone(),
            name: BucketName::parse(name).unwrap(),
            region: RegionSet::default().parse(region).unwrap(),
            storage_class: StorageClass::Standard,
            public: false,
            tags: Tags::default(),
            created_at: Timestamp::from_unix_seconds(1_800_000_000),
        }
    }

    type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

    /// Polls `call` once, which hands its sequence to the writer, and returns it to be awaited.
    fn sent<T: 'static>(call: impl Future<Output = T> + Send + 'static) -> Pending<T> {
        let mut call: Pending<T> = Box::pin(call);
        let waker = std::task::Waker::noop();
        assert!(
            call.as_mut()
                .poll(&mut std::task::Context::from_waker(waker))
                .is_pending(),
            "a write answered before its batch could commit"
        );
        call
    }

    /// How many transactions have committed: the WAL index's `iChange`.
    fn transactions(store_dir: &std::path::Path) -> u32 {
        let mark = CommitWatch::open(&store_dir.join(super::super::DATABASE_FILE))
            .and_then(|w| w.mark())
            .expect("a WAL index");
        u32::from_ne_bytes(mark.0[8..12].try_into().unwrap())
    }

    async fn setup() -> (tempfile::TempDir, SqliteStore, ProjectId) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let project = store
            .create_project(
                ProjectId::generate(),
                ProjectName::parse("batch").unwrap(),
                Timestamp::from_unix_seconds(1),
            )
            .await
            .unwrap()
            .id;
        (dir, store, project)
    }

    #[tokio::test]
    async fn writes_that_wait_together_commit_together_and_a_refused_one_changes_nothing() {
        let (dir, store, project) = setup().await;
        // Hold the writer thread inside a batch until the writes below are queued behind it.
        let (open_gate, gate) = std::sync::mpsc::channel::<()>();
        let held = sent({
            let store = store.clone();
            async move {
                store
                    .write(move |_tx| async move {
                        gate.recv().unwrap();
                        Ok(())
                    })
                    .await
            }
        });
        let create = |name: &'static str, region: &'static str| {
            let (store, bucket) = (store.clone(), new_bucket(&project, name, region));
            sent(async move { store.create_bucket(bucket).await })
        };
        let alpha = create("alpha", "us-east-1");
        let beta = create("beta", "eu-west-1");
        let alpha_again = create("alpha", "eu-west-1");
        let delete_missing = {
            let (store, project) = (store.clone(), project.clone());
            sent(async move {
                let now = Timestamp::from_unix_seconds(1_800_000_100);
                store
                    .soft_delete_bucket(&project, &BucketId::generate(), now, now)
                    .await
            })
        };
        let gamma = create("gamma", "us-east-1");
        let before = transactions(dir.path());
        open_gate.send(()).unwrap();

        held.await.unwrap();
        let alpha: Bucket = alpha.await.unwrap();
        beta.await.unwrap();
        assert!(matches!(alpha_again.await, Err(StoreError::BucketNameTaken)));
        assert!(matches!(delete_missing.await, Err(StoreError::NotFound)));
        gamma.await.unwrap();
        assert_eq!(
            transactions(dir.path()).wrapping_sub(before),
            1,
            "the five writes queued together commit in one transaction"
        );
        // The refused writes changed nothing; the others are all there.
        let found = store
            .get_bucket(&project, &BucketRef::Name(BucketName::parse("alpha").unwrap()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.id, found.region.as_str()), (alpha.id, "us-east-1"));
        for name in ["beta", "gamma"] {
            let name = BucketRef::Name(BucketName::parse(name).unwrap());
            assert!(store.get_bucket(&project, &name).await.unwrap().is_some());
        }
        assert_eq!(store.data_version(&project).await.unwrap(), {
            // One version step per bucket row inserted: three, whatever the batching.
            let fresh = setup().await;
            for name in ["alpha", "beta", "gamma"] {
                fresh
                    .1
                    .create_bucket(new_bucket(&fresh.2, name, "us-east-1"))
                    .await
                    .unwrap();
            }
            fresh.1.data_version(&fresh.2).await.unwrap()
        });
    }

    #[tokio::test]
    async fn a_write_that_panics_fails_alone_and_the_writer_goes_on() {
        let (_dir, store, project) = setup().await;
        let panicked = store
            .write(|_tx| async move {
                panic!("a bug in a write sequence");
                #[allow(unreachable_code)]
                Ok(())
            })
            .await;
        assert!(panicked.is_err());
        store
            .create_bucket(new_bucket(&project, "after", "us-east-1"))
            .await
            .unwrap();
        let after = BucketRef::Name(BucketName::parse("after").unwrap());
        assert!(store.get_bucket(&project, &after).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn writes_after_close_fail_as_unavailable() {
        let (_dir, store, project) = setup().await;
        store.close().await;
        let refused = store.create_bucket(new_bucket(&project, "late", "us-east-1")).await;
        let Err(StoreError::Backend(failure)) = refused else {
            panic!("a write after close: {refused:?}");
        };
        assert_eq!(failure.kind(), crate::FailureKind::Unavailable);
    }
}
