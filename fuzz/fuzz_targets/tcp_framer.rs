//! TCP framing: the same byte stream cut into arbitrary chunks must frame exactly like
//! the stream pushed in one piece (messages, errors and keep-alive count).
//!
//! Input: byte 0 seeds the chunk-size generator, the rest is the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapline_sip::{FramingError, StreamFramer};

type Frames = Vec<Result<Vec<u8>, FramingError>>;

fn drain(f: &mut StreamFramer, out: &mut Frames) {
    // Each call either consumes bytes, fails (and then stops for good) or needs more.
    for _ in 0..100_000 {
        match f.next_message() {
            Some(r) => out.push(r),
            None => return,
        }
    }
    panic!("next_message never returned None");
}

fn run(stream: &[u8], chunk_seed: Option<u8>) -> (Frames, usize, usize) {
    let mut f = StreamFramer::new();
    let mut out = Vec::new();
    let mut pings = 0;
    match chunk_seed {
        None => {
            f.push(stream);
            drain(&mut f, &mut out);
            pings += f.take_keepalives();
        }
        Some(seed) => {
            // Tiny LCG: chunk sizes 1..=max, max chosen by the seed (1 = byte at a time).
            let max = usize::from(seed % 64) + 1;
            let mut state = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
            let mut rest = stream;
            while !rest.is_empty() {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let n = (usize::try_from(state >> 16).unwrap_or(1) % max + 1).min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                f.push(chunk);
                drain(&mut f, &mut out);
                pings += f.take_keepalives();
                rest = tail;
            }
        }
    }
    (out, pings, f.buffered())
}

/// Frames as lengths / errors, so a failure message stays readable.
fn summary(frames: &Frames) -> Vec<Result<usize, FramingError>> {
    frames
        .iter()
        .map(|r| r.as_ref().map(Vec::len).map_err(Clone::clone))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = run(stream, None);
    let chunked = run(stream, Some(seed));
    assert!(
        whole.0 == chunked.0,
        "framed messages depend on chunking: one push {:?}, chunked {:?}",
        summary(&whole.0),
        summary(&chunked.0)
    );
    assert_eq!(whole.1, chunked.1, "keep-alive count depends on chunking");
    // After an error the framer is dead; bytes pushed later just sit in its buffer (the
    // caller must close the connection), so buffered counts only compare on success.
    if whole.0.iter().all(Result::is_ok) {
        assert_eq!(whole.2, chunked.2, "buffered bytes depend on chunking");
    }
    // Conservation: framed bytes never exceed what was pushed.
    let framed: usize = whole.0.iter().flatten().map(Vec::len).sum();
    assert!(framed + whole.2 <= stream.len());
});
