//! Single flight: concurrent requests for the same upstream object share one fetch. The
//! fetch runs as its own task, so a client that disconnects neither cancels it for the
//! others nor leaves a partial artifact (what is stored is stored whole, or not at all).

use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

/// A fetch's outcome, or why its task died.
type Flight<T> = Shared<BoxFuture<'static, Result<T, String>>>;

/// Fetches in progress, by key.
pub struct Flights<T: Clone + Send + Sync + 'static> {
    /// Each fetch and how many callers wait for it.
    running: Mutex<HashMap<String, (Flight<T>, usize)>>,
}

impl<T: Clone + Send + Sync + 'static> Default for Flights<T> {
    fn default() -> Self {
        Flights {
            running: Mutex::default(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Flights<T> {
    /// Joins the fetch running under `key` (calling `joining` at once), or starts `start()`
    /// as a task; returns its outcome (an error if the task died) and whether this call
    /// joined one already running.
    pub async fn run<F>(
        &self,
        key: &str,
        start: impl FnOnce() -> F,
        joining: impl FnOnce(),
    ) -> (Result<T, String>, bool)
    where
        F: Future<Output = T> + Send + 'static,
    {
        let (flight, joined) = {
            let mut running = self.running.lock().expect("flights lock");
            match running.get_mut(key) {
                Some((f, callers)) => {
                    *callers += 1;
                    joining();
                    (f.clone(), true)
                }
                None => {
                    let task = tokio::spawn(start());
                    let f = async move { task.await.map_err(|e| format!("fetch task: {e}")) }
                        .boxed()
                        .shared();
                    running.insert(key.to_string(), (f.clone(), 1));
                    (f, false)
                }
            }
        };
        // leaving, even by being dropped (the client went away), counts this caller out
        let caller = Caller {
            flights: self,
            key,
            flight,
        };
        (caller.flight.clone().await, joined)
    }

    /// How many callers wait for the fetch under `key`.
    pub fn callers(&self, key: &str) -> usize {
        let running = self.running.lock().expect("flights lock");
        running.get(key).map_or(0, |(_, n)| *n)
    }
}

struct Caller<'a, T: Clone + Send + Sync + 'static> {
    flights: &'a Flights<T>,
    key: &'a str,
    flight: Flight<T>,
}

impl<T: Clone + Send + Sync + 'static> Drop for Caller<'_, T> {
    fn drop(&mut self) {
        let mut running = self.flights.running.lock().expect("flights lock");
        if let Some((f, callers)) = running.get_mut(self.key) {
            if f.ptr_eq(&self.flight) {
                *callers -= 1;
                if *callers == 0 {
                    running.remove(self.key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Clone, Debug, PartialEq)]
    struct Out(usize);

    #[tokio::test]
    async fn concurrent_callers_share_one_run_and_later_ones_start_anew() {
        let flights = Arc::new(Flights::<Out>::default());
        let started = Arc::new(AtomicUsize::new(0));
        let (open, gate) = tokio::sync::watch::channel(false);
        let mut joins = Vec::new();
        for _ in 0..5 {
            let (f, s, mut g) = (flights.clone(), started.clone(), gate.clone());
            joins.push(tokio::spawn(async move {
                f.run(
                    "k",
                    move || async move {
                        s.fetch_add(1, Ordering::SeqCst);
                        let _ = g.wait_for(|o| *o).await;
                        Out(7)
                    },
                    || {},
                )
                .await
            }));
        }
        // every caller is in before the gate opens
        while flights.callers("k") < 5 {
            tokio::task::yield_now().await;
        }
        open.send(true).unwrap();
        let mut joined = 0;
        for j in joins {
            let (out, was_joined) = j.await.unwrap();
            assert_eq!(out, Ok(Out(7)));
            joined += was_joined as usize;
        }
        assert_eq!(started.load(Ordering::SeqCst), 1);
        assert_eq!(joined, 4);
        assert!(flights.running.lock().unwrap().is_empty());
        let (out, was_joined) = flights.run("k", || async { Out(8) }, || {}).await;
        assert_eq!((out, was_joined), (Ok(Out(8)), false));
    }
}
