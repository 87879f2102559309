//! A reader that decompresses on its own thread, and a reader that counts bytes.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Reads what the decompression thread sends.
pub(super) struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    back: std::sync::mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(b)) if b.is_empty() => self.done = true,
                Ok(Ok(b)) => {
                    let used = std::mem::replace(&mut self.buf, b);
                    let _ = self.back.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => self.done = true,
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

const CHUNK: usize = 1 << 20;

/// Decompresses on its own thread so hashing and writing overlap with it; chunk buffers
/// travel back for reuse, so memory stays at a handful of chunks.
pub(super) fn pipelined(mut r: Box<dyn Read + Send>, counter: Arc<AtomicU64>) -> ChannelReader {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(3);
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::spawn(move || loop {
        let mut b = back_rx.try_recv().unwrap_or_default();
        b.resize(CHUNK, 0);
        let mut filled = 0;
        let res = loop {
            match r.read(&mut b[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == b.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        counter.fetch_add(filled as u64, Ordering::Relaxed);
        b.truncate(filled);
        let end = filled == 0;
        match res {
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
            Ok(()) => {
                if tx.send(Ok(b)).is_err() || end {
                    return;
                }
            }
        }
    });
    ChannelReader {
        rx,
        back: back_tx,
        buf: Vec::new(),
        pos: 0,
        done: false,
    }
}

/// Counts the bytes read through it.
pub(super) struct CountingRead<R> {
    pub(super) inner: R,
    pub(super) count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
