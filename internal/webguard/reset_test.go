package webguard

import "syscall"

// syscallReset is a connection the peer closed with unread data.
const syscallReset = syscall.ECONNRESET
