//! asyncio's queues: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`] (smallest first),
//! with the same verbs (`put`, `get`, `put_nowait`, `get_nowait`, `task_done`, `join`,
//! `shutdown`). The three share one implementation, [`core`], which documents the protocol.
//!
//! | asyncio | arbor |
//! |---|---|
//! | `Queue(maxsize=0)` | `Queue::new(0)` (0: unbounded) |
//! | `await q.put(x)` / `q.put_nowait(x)` | `q.put(x).await?` / `q.put_nowait(x)?` |
//! | `await q.get()` / `q.get_nowait()` | `q.get().await?` / `q.get_nowait()?` |
//! | `QueueFull`, `QueueEmpty` | [`TryPutError::Full(item)`](TryPutError::Full), [`TryGetError::Empty`] |
//! | `QueueShutDown` | [`QueueShutDown`] (from `put` it carries the item back), [`TryPutError::ShutDown`], [`TryGetError::ShutDown`] |
//! | `q.task_done()`, `await q.join()` | `q.task_done()`, `q.join().await` |
//! | `q.shutdown(immediate=False)` | `q.shutdown(false)` |
//! | `q.qsize()`, `q.empty()`, `q.full()`, `q.maxsize` | `q.len()`, `q.is_empty()`, `q.is_full()`, `q.maxsize()` |
//!
//! Share a queue between tasks with an `Arc`.

pub(crate) mod core;

use self::core::{Core, Fifo, Get, Join, Lifo, Priority, Put, TryGet, TryPut};
use std::error::Error;
use std::fmt;

/// A put failed because the queue is shut down; it carries the item back (asyncio's
/// `QueueShutDown`). From a get it carries `()`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down")
    }
}

impl<T> Error for QueueShutDown<T> {}

/// Why `put_nowait` failed; both variants give the item back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`).
    Full(T),
    /// The queue is shut down (asyncio's `QueueShutDown`).
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::Full(_) => "Full(..)",
            TryPutError::ShutDown(_) => "ShutDown(..)",
        })
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::Full(_) => "the queue is full",
            TryPutError::ShutDown(_) => "the queue is shut down",
        })
    }
}

impl<T> Error for TryPutError<T> {}

impl<T> From<TryPut<T>> for TryPutError<T> {
    fn from(e: TryPut<T>) -> Self {
        match e {
            TryPut::Full(item) => TryPutError::Full(item),
            TryPut::Closed(item) => TryPutError::ShutDown(item),
        }
    }
}

/// Why `get_nowait` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is available (asyncio's `QueueEmpty`).
    Empty,
    /// The queue is shut down and has no item left for this caller (asyncio's
    /// `QueueShutDown`).
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryGetError::Empty => "the queue is empty",
            TryGetError::ShutDown => "the queue is shut down",
        })
    }
}

impl Error for TryGetError {}

impl From<TryGet> for TryGetError {
    fn from(e: TryGet) -> Self {
        match e {
            TryGet::Empty => TryGetError::Empty,
            TryGet::Closed => TryGetError::ShutDown,
        }
    }
}

/// The methods the three queues share (`$bound`: what the item type needs).
macro_rules! queue_methods {
    ($name:ident $(, $bound:path)?) => {
        impl<T $(: $bound)?> $name<T> {
            /// A queue holding at most `maxsize` items; 0 means unbounded (as in asyncio).
            pub fn new(maxsize: usize) -> Self {
                $name {
                    core: Core::new(maxsize, true),
                }
            }

            /// Puts `item`, waiting while the queue is full. Putters are served in FIFO order.
            ///
            /// Fails with the item if the queue is (or becomes, while waiting) shut down.
            ///
            /// Cancellation-safe: the item goes in only when the future resolves `Ok`. A
            /// future dropped (or cancelled through a scope or a timeout) before then did not
            /// put, even if room had been made for it: its item is dropped with it and never
            /// delivered, so retrying a timed-out `put` does not duplicate the item. Room
            /// made for it goes to the next waiting putter.
            pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
                Put::new(&self.core, item).await.map_err(QueueShutDown)
            }

            /// Puts `item` if there is room and the queue is not shut down.
            pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
                self.core.try_put(item).map_err(TryPutError::from)
            }

            /// Takes an item, waiting while the queue is empty. Getters are served in FIFO
            /// order.
            ///
            /// Fails once the queue is shut down and no item is left for this caller.
            /// Cancellation-safe: a getter dropped after an item was promised to it passes the
            /// promise on, so no item is lost.
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                Get::new(&self.core).await.map_err(|_| QueueShutDown(()))
            }

            /// Takes an item if one is available.
            pub fn get_nowait(&self) -> Result<T, TryGetError> {
                self.core.try_get().map_err(TryGetError::from)
            }

            /// Marks one item taken by a get as processed (for [`join`](Self::join)).
            ///
            /// # Panics
            /// If called more times than items were put (asyncio raises `ValueError`).
            #[track_caller]
            pub fn task_done(&self) {
                self.core.task_done();
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done).
            pub async fn join(&self) {
                Join::new(&self.core).await
            }

            /// Shuts the queue down (Python 3.13's `Queue.shutdown`): puts fail from now
            /// on, waiting putters get their items back, and gets fail once the queue is
            /// empty. With `immediate`, the items are discarded at once (each counted as
            /// done for `join`) and gets fail at once.
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate);
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            /// The number of items [`get_nowait`](Self::get_nowait) can take now (asyncio's
            /// `qsize()`).
            ///
            /// An item already promised to a waiting [`get`](Self::get) (it was put while
            /// that getter waited, and the getter has not run since) is not counted: it is no
            /// longer up for grabs. So `len`, `is_empty` and `get_nowait` always agree, and
            /// `while !q.is_empty() { q.get_nowait().unwrap(); }` never fails.
            pub fn len(&self) -> usize {
                self.core.len()
            }

            /// Whether [`get_nowait`](Self::get_nowait) would find no item (`len() == 0`).
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether [`put_nowait`](Self::put_nowait) would find no room (never, if
            /// unbounded).
            ///
            /// An item promised to a waiting getter takes its room until that getter
            /// collects it, so the queue can be full while `len() < maxsize()`.
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// The bound given to `new` (0: unbounded).
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }
        }

        impl<T $(: $bound)?> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.core, f)
            }
        }
    };
}

/// A first-in, first-out queue (asyncio's `Queue`).
///
/// ```
/// use arbor_runtime::sync::Queue;
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let q = Arc::new(Queue::new(2)); // at most two items waiting
///     let consumer = {
///         let q = q.clone();
///         arbor_runtime::spawn(async move {
///             let mut got = Vec::new();
///             while let Ok(item) = q.get().await {
///                 got.push(item);
///                 q.task_done();
///             }
///             got
///         })
///     };
///     for i in 0..5 {
///         q.put(i).await.unwrap(); // waits while the queue is full
///     }
///     q.join().await; // every item processed
///     q.shutdown(false); // the consumer's next get fails
///     assert_eq!(consumer.await.unwrap(), [0, 1, 2, 3, 4]);
/// });
/// ```
///
/// The methods without waiting:
///
/// ```
/// use arbor_runtime::sync::{Queue, TryGetError, TryPutError};
///
/// let q = Queue::new(1);
/// q.put_nowait("a").unwrap();
/// assert_eq!(q.put_nowait("b"), Err(TryPutError::Full("b")));
/// assert_eq!(q.get_nowait(), Ok("a"));
/// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.put_nowait("c"), Err(TryPutError::ShutDown("c")));
/// assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
/// ```
pub struct Queue<T> {
    /// The shared queue machinery, with a FIFO store.
    core: Core<Fifo<T>>,
}

queue_methods!(Queue);

/// A last-in, first-out queue (asyncio's `LifoQueue`): the same methods as [`Queue`].
///
/// ```
/// let q = arbor_runtime::sync::LifoQueue::new(0);
/// for i in 1..=3 {
///     q.put_nowait(i).unwrap();
/// }
/// assert_eq!(q.get_nowait(), Ok(3));
/// assert_eq!(q.get_nowait(), Ok(2));
/// ```
pub struct LifoQueue<T> {
    /// The shared queue machinery, with a LIFO store.
    core: Core<Lifo<T>>,
}

queue_methods!(LifoQueue);

/// A queue that hands out its smallest item first (asyncio's `PriorityQueue`): the same
/// methods as [`Queue`]. Use a tuple such as `(priority, item)` or
/// [`Reverse`](std::cmp::Reverse) to choose the order.
///
/// ```
/// arbor_runtime::run(async {
///     let q = arbor_runtime::sync::PriorityQueue::new(0);
///     q.put((2, "low")).await.unwrap();
///     q.put((1, "high")).await.unwrap();
///     assert_eq!(q.get().await.unwrap(), (1, "high"));
/// });
/// ```
pub struct PriorityQueue<T: Ord> {
    /// The shared queue machinery, with a min-heap store.
    core: Core<Priority<T>>,
}

queue_methods!(PriorityQueue, Ord);
