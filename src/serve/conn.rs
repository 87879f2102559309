//! Connections below HTTP: how many the server holds (in all and per client address), and
//! how long one may keep a slot without making progress. A connection waiting for a request
//! is closed after the idle timeout; one that has begun a request head must complete it
//! within the header timeout; a response the client stops reading counts as idle. While a
//! request is being handled, the handler's own limits apply.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Connection caps and timeouts.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnLimits {
    /// Connections open at once.
    pub max: usize,
    /// Connections open at once from one client address.
    pub per_client: usize,
    /// Time to send a whole request head, from its first byte.
    pub header_timeout: Duration,
    /// Time a connection may wait between requests, or make no progress on a response.
    pub idle_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max: 4096,
            per_client: 256,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
        }
    }
}

/// Counts open connections and refuses those over the caps.
#[derive(Debug)]
pub struct Admission {
    limits: ConnLimits,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A connection's place in the counts; given back when dropped.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    /// No connections yet.
    pub fn new(limits: ConnLimits) -> Arc<Admission> {
        Arc::new(Admission {
            limits,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &ConnLimits {
        &self.limits
    }

    /// A ticket for a new connection from `ip`, or why there is none.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, &'static str> {
        let mut open = self.open.lock().expect("admission lock");
        if open.0 >= self.limits.max {
            return Err("the server holds as many connections as allowed");
        }
        let mine = open.1.entry(ip).or_insert(0);
        if *mine >= self.limits.per_client {
            return Err("this client holds as many connections as allowed");
        }
        *mine += 1;
        open.0 += 1;
        Ok(Ticket {
            admission: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().expect("admission lock").0
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().expect("admission lock");
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// What the HTTP layer tells a connection: how many requests on it are being handled.
#[derive(Debug, Default)]
pub struct Activity {
    handling: AtomicUsize,
    heads: AtomicUsize,
    /// Woken when a handler ends, so a waiting connection arms its idle timer again.
    waiting: futures_util::task::AtomicWaker,
}

impl Activity {
    /// A request head arrived and its handler starts; it ends when the guard is dropped
    /// (the handler produced its response, or was dropped unfinished).
    pub fn handling(this: &Arc<Activity>) -> Handling {
        this.handling.fetch_add(1, Ordering::SeqCst);
        this.heads.fetch_add(1, Ordering::SeqCst);
        Handling(this.clone())
    }
}

/// A request being handled on a connection ([`Activity::handling`]).
pub struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::SeqCst);
        self.0.waiting.wake();
    }
}

/// A TCP connection with the timeouts above.
pub struct Conn {
    io: TcpStream,
    peer: SocketAddr,
    activity: Arc<Activity>,
    last: Instant,
    /// When the first byte of a head arrived, and how many heads had been handled then.
    head: Option<(Instant, usize)>,
    timer: Pin<Box<Sleep>>,
    header_timeout: Duration,
    idle_timeout: Duration,
    _ticket: Ticket,
}

impl Conn {
    /// Wraps an accepted connection holding `ticket`.
    pub fn new(io: TcpStream, peer: SocketAddr, ticket: Ticket) -> Conn {
        let limits = ticket.admission.limits.clone();
        let now = Instant::now();
        Conn {
            io,
            peer,
            activity: Arc::default(),
            last: now,
            head: None,
            timer: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            _ticket: ticket,
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// What the HTTP layer reports into.
    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }

    fn progressed(&mut self, read: bool) {
        self.last = Instant::now();
        let handled = self.activity.heads.load(Ordering::SeqCst);
        if let Some((_, at)) = self.head {
            if handled != at {
                self.head = None;
            }
        }
        if read && self.head.is_none() && self.activity.handling.load(Ordering::SeqCst) == 0 {
            self.head = Some((self.last, handled));
        }
    }

    /// Checks the deadline of a connection that is waiting on its client.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        self.activity.waiting.register(cx.waker());
        if self.activity.handling.load(Ordering::SeqCst) > 0 {
            return Poll::Pending;
        }
        let handled = self.activity.heads.load(Ordering::SeqCst);
        let (deadline, what) = match self.head {
            Some((start, at)) if at == handled => (start + self.header_timeout, "request head"),
            _ => (self.last + self.idle_timeout, "idle connection"),
        };
        // the timer moves only to an earlier deadline; one that has become later is set
        // when the timer fires, so a busy connection does not touch the timer per request
        if deadline < self.timer.deadline() {
            self.timer.as_mut().reset(deadline);
        }
        loop {
            match self.timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if Instant::now() >= deadline => {
                    return Poll::Ready(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("{what} from {} timed out", self.peer),
                    ))
                }
                Poll::Ready(()) => self.timer.as_mut().reset(deadline),
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut me.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    me.progressed(true);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => me.stalled(cx).map(Err),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        match Pin::new(&mut me.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    me.progressed(false);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => me.stalled(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        match Pin::new(&mut me.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    me.progressed(false);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => me.stalled(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files to the hard limit (as Go's runtime does), and
/// returns the soft limit now in force.
#[cfg(unix)]
pub fn raise_open_files() -> Option<libc::rlim_t> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return None;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                r = raised;
            }
        }
    }
    Some(r.rlim_cur)
}
