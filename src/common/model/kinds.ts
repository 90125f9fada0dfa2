// Kind ids and argument positions the model reads, resolved once from the vocabulary (events.json), so a renamed
// kind or argument fails loudly at load time instead of silently matching nothing.
import { kindId, argIndex, enumValue } from '../vocabulary';

export const K = {
  procStart: kindId('proc_start'), procExit: kindId('proc_exit'), threadStart: kindId('thread_start'),
  threadExit: kindId('thread_exit'), mapping: kindId('mapping'), dropped: kindId('dropped'), pythonLocation: kindId('python_location'),
  fork: kindId('fork'), spawn: kindId('spawn'), exec: kindId('exec'), wait: kindId('wait'), exit: kindId('exit'), fatalSignal: kindId('fatal_signal'),
  open: kindId('open'), close: kindId('close'), dup: kindId('dup'), fcntl: kindId('fcntl'),
  pipe: kindId('pipe'), mkfifo: kindId('mkfifo'), read: kindId('read'), write: kindId('write'),
  socket: kindId('socket'), socketpair: kindId('socketpair'), bind: kindId('bind'), listen: kindId('listen'), accept: kindId('accept'),
  connect: kindId('connect'), shutdown: kindId('shutdown'), fdPass: kindId('fd_pass'),
  mqOpen: kindId('mq_open'), mqSend: kindId('mq_send'), mqReceive: kindId('mq_receive'), mqClose: kindId('mq_close'), mqUnlink: kindId('mq_unlink'),
  msgget: kindId('msgget'), msgsnd: kindId('msgsnd'), msgrcv: kindId('msgrcv'),
  shmOpen: kindId('shm_open'), shmat: kindId('shmat'), mmap: kindId('mmap'), munmap: kindId('munmap'),
  kill: kindId('kill'), tgkill: kindId('tgkill'), raise: kindId('raise'), sigqueue: kindId('sigqueue'), sigaction: kindId('sigaction'),
  signalHandler: kindId('signal_handler'), sigwait: kindId('sigwait'),
  flock: kindId('flock'), fcntlLock: kindId('fcntl_lock'), lockf: kindId('lockf'),
  mutexLock: kindId('mutex_lock'), mutexUnlock: kindId('mutex_unlock'), mutexInit: kindId('mutex_init'),
  rwlockLock: kindId('rwlock_lock'), rwlockUnlock: kindId('rwlock_unlock'), condWait: kindId('cond_wait'), condSignal: kindId('cond_signal'),
  spinLock: kindId('spin_lock'), spinUnlock: kindId('spin_unlock'), semOpen: kindId('sem_open'), semWait: kindId('sem_wait'),
  semPost: kindId('sem_post'), semInit: kindId('sem_init'), semClose: kindId('sem_close'), semop: kindId('semop'),
  select: kindId('select'), poll: kindId('poll'), epollCreate: kindId('epoll_create'), epollWait: kindId('epoll_wait'), eventfd: kindId('eventfd'),
  epollCtl: kindId('epoll_ctl'), semget: kindId('semget'), semctl: kindId('semctl'),
  pageFault: kindId('page_fault'), pageSnapshot: kindId('page_snapshot'), snapshotDone: kindId('snapshot_done'),
} as const;

/** Argument position by kind and name (see docs/events.md). */
export const A = (kind: string, arg: string): number => argIndex(kind, arg);

export const OTYPE = {
  unknown: enumValue('otype', 'unknown'), pipe: enumValue('otype', 'pipe'), fifo: enumValue('otype', 'fifo'),
  socketUnix: enumValue('otype', 'socket_unix'), socketTcp: enumValue('otype', 'socket_tcp'), socketUdp: enumValue('otype', 'socket_udp'),
  socketOther: enumValue('otype', 'socket_other'), file: enumValue('otype', 'file'), mqueue: enumValue('otype', 'mqueue'),
  eventfd: enumValue('otype', 'eventfd'), epoll: enumValue('otype', 'epoll'), shm: enumValue('otype', 'shm'),
} as const;

export const EXIT_HOW_FATAL = enumValue('exitHow', 'fatal_signal');
export const ORIGIN_EXEC = enumValue('origin', 'exec');
export const FD_PASS_SEND = enumValue('fdPassDirection', 'send');
export const RW_WRITE = enumValue('rwMode', 'write');
export const DUP_CLOEXEC = enumValue('dupHow', 'fcntl_dupfd_cloexec');

// Linux x86-64/aarch64 constants the model interprets.
export const O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2, O_CLOEXEC = 0o2000000;
export const SOCK_TYPE_MASK = 0xf, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5;
export const F_SETFD = 2, FD_CLOEXEC = 1;
export const MAP_SHARED = 1, MAP_ANONYMOUS = 0x20;
export const EINTR = 4, ETIMEDOUT = 110;
export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
export const F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
export const F_ULOCK = 0, F_LOCK = 1, F_TLOCK = 2;
export const PIPE_BUF = 4096;

export function isSocketOtype(o: number): boolean {
  return o === OTYPE.socketUnix || o === OTYPE.socketTcp || o === OTYPE.socketUdp || o === OTYPE.socketOther;
}
