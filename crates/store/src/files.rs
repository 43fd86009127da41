//! A recording whose files were removed (it received no audio at all: empty files are not
//! kept): the catalogue stops pointing at them.

use rusqlite::params;

use crate::catalogue::{ensure_recording, exec_cached};
use crate::error::DbContext;
use crate::{Catalogue, StoreError};

impl Catalogue {
    /// Forget the file paths of recording `recording_id` (streams and stereo file).
    pub fn forget_files(&self, recording_id: &str) -> Result<(), StoreError> {
        ensure_recording(&self.conn, recording_id)?;
        exec_cached(
            &self.conn,
            "UPDATE streams SET file_path = NULL WHERE recording_id = ?1",
            params![recording_id],
        )
        .ctx("forget stream files")?;
        exec_cached(
            &self.conn,
            "UPDATE recordings SET stereo_path = NULL WHERE id = ?1",
            params![recording_id],
        )
        .ctx("forget stereo file")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Catalogue, NewRecording, StoreError};

    #[test]
    fn paths_are_forgotten_and_unknown_recordings_refused() {
        let c = Catalogue::open_in_memory().unwrap();
        let at = time::OffsetDateTime::now_utc();
        c.insert_recording(&NewRecording {
            id: "r1",
            call_id: "c1",
            src_addr: "127.0.0.1:5060",
            started_at: at,
            dir: "/tmp/r1",
        })
        .unwrap();
        c.set_outputs("r1", Some("/tmp/r1/stereo.wav"), &[])
            .unwrap();
        c.forget_files("r1").unwrap();
        let d = c.get("r1").unwrap().unwrap();
        assert_eq!(d.summary.files.stereo, None);
        assert!(matches!(
            c.forget_files("nope"),
            Err(StoreError::UnknownRecording(_))
        ));
    }
}
