// The system's error codes in words, for exit-3 messages ("ENOENT: no such file or directory").
// The words are the C library's strerror() texts, lower-cased as Node prints them; a static
// table rather than the runtime's, so Node, Deno and Bun say the same thing.

const WORDS: Record<string, string> = {
  EACCES: "permission denied",
  EAGAIN: "resource temporarily unavailable",
  EBADF: "bad file descriptor",
  EBUSY: "device or resource busy",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  EDQUOT: "disk quota exceeded",
  EEXIST: "file already exists",
  EFBIG: "file too large",
  EINTR: "interrupted system call",
  EINVAL: "invalid argument",
  EIO: "input/output error",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  EMFILE: "too many open files",
  EMLINK: "too many links",
  ENAMETOOLONG: "file name too long",
  ENFILE: "too many open files in system",
  ENODEV: "no such device",
  ENOENT: "no such file or directory",
  ENOMEM: "out of memory",
  ENOSPC: "no space left on device",
  ENOTCONN: "not connected",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  ENOTSUP: "operation not supported",
  ENXIO: "no such device or address",
  EOPNOTSUPP: "operation not supported",
  EPERM: "operation not permitted",
  EPIPE: "broken pipe",
  EROFS: "read-only file system",
  ESPIPE: "illegal seek",
  ESTALE: "stale file handle",
  ETIMEDOUT: "timed out",
  ETXTBSY: "text file busy",
  EXDEV: "cross-device link not permitted",
};

/** "ENOENT: no such file or directory", or the bare code when it has no entry. */
export function errnoInWords(errno: string): string {
  const w = WORDS[errno];
  return w ? `${errno}: ${w}` : errno;
}

/**
 * An FsError's message ("<op> <path>: <errno>[ (<detail>)]", src/errors.ts) with the code
 * explained: "read /x: ENOENT: no such file or directory". Any other shape is left as it is.
 */
export function explainFsMessage(message: string, e: { op: string; path: string; errno: string }): string {
  const head = `${e.op} ${e.path}: ${e.errno}`;
  if (!message.startsWith(head) || message.startsWith(`${head}:`)) return message;
  return `${e.op} ${e.path}: ${errnoInWords(e.errno)}${message.slice(head.length)}`;
}
