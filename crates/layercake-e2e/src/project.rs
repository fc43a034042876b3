//! A private, writable copy of a testdata project (tests edit files).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use crate::HarnessError;
use crate::command::run_ok;

/// A testdata project copied into its own temporary directory, removed on drop.
#[derive(Debug)]
pub struct Project {
    root: PathBuf,
    /// The temporary directory holding `root`; the whole of it goes on drop.
    scratch: PathBuf,
}

/// The repository's `testdata/` folder.
pub(crate) fn testdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

impl Project {
    /// Copies `testdata/<name>` (dotfiles included) to `<scratch>/<name>`.
    pub(crate) fn copy_of(name: &str, scratch: PathBuf) -> Result<Self, HarnessError> {
        let source = testdata_dir().join(name);
        if !source.is_dir() {
            return Err(HarnessError::io(
                &source,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such testdata project"),
            ));
        }
        fs::create_dir_all(&scratch).map_err(|e| HarnessError::io(&scratch, e))?;
        let root = scratch.join(name);
        run_ok(
            "cp",
            &[OsStr::new("-a"), source.as_os_str(), root.as_os_str()],
        )?;
        Ok(Self { root, scratch })
    }

    /// The project folder: the build context.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A path inside the project.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The text of a project file.
    pub fn read(&self, relative: &str) -> Result<String, HarnessError> {
        let path = self.file(relative);
        fs::read_to_string(&path).map_err(|e| HarnessError::io(&path, e))
    }

    /// Writes (creates or replaces) a project file.
    pub fn write(&self, relative: &str, text: &str) -> Result<(), HarnessError> {
        let path = self.file(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| HarnessError::io(parent, e))?;
        }
        fs::write(&path, text).map_err(|e| HarnessError::io(&path, e))
    }

    /// Appends text to a project file.
    pub fn append(&self, relative: &str, text: &str) -> Result<(), HarnessError> {
        let mut whole = self.read(relative)?;
        whole.push_str(text);
        self.write(relative, &whole)
    }

    /// Replaces the one occurrence of `from` in a project file with `to`; it is an error
    /// when `from` does not occur exactly once (a test edit that silently did nothing).
    pub fn replace(&self, relative: &str, from: &str, to: &str) -> Result<(), HarnessError> {
        let text = self.read(relative)?;
        let count = text.matches(from).count();
        if count != 1 {
            return Err(HarnessError::unexpected(
                relative,
                format!("`{from}` occurs {count} times, expected once"),
            ));
        }
        self.write(relative, &text.replacen(from, to, 1))
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir must not turn a passing test into a failure.
        let _ = fs::remove_dir_all(&self.scratch);
    }
}
