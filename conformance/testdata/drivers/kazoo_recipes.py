"""kazoo's recipes against the gateway's ZooKeeper API.

Usage: kazoo_recipes.py HOSTS_A HOSTS_B

Two clients (A on HOSTS_A, B on HOSTS_B: different nodes of an ensemble,
or the same node) run Lock, Election, Counter, Queue, LockingQueue,
Party, Barrier, DoubleBarrier, Semaphore, DataWatch, ChildrenWatch and
transactions against each other. Any warning or error kazoo logs (a
dropped connection, say) fails the run. Prints one line per recipe and
"ALL OK" at the end; exits 1 on the first failure.
"""

import logging
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout, NodeExistsError, RolledBackError, BadVersionError


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


collect = Collect()
logging.getLogger("kazoo").addHandler(collect)
logging.getLogger("kazoo").setLevel(logging.INFO)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait(cond, what, limit=10.0):
    deadline = time.time() + limit
    while not cond():
        if time.time() > deadline:
            raise AssertionError("timed out: " + what)
        time.sleep(0.02)


def lock(a, b):
    la, lb = a.Lock("/r/lock", "a"), b.Lock("/r/lock", "b")
    check(la.acquire(timeout=5), "A takes the free lock")
    try:
        lb.acquire(timeout=0.5)
        raise AssertionError("B took a held lock")
    except LockTimeout:
        pass
    check(lb.contenders() == ["a"], "contenders while A holds: %r" % lb.contenders())
    got = []
    t = threading.Thread(target=lambda: got.append(lb.acquire(timeout=10)))
    t.start()
    time.sleep(0.2)
    la.release()
    t.join(15)
    check(got == [True], "B takes the lock A released")
    lb.release()


def election(a, b):
    order = []
    done = threading.Event()

    def lead(name):
        order.append(name)
        if len(order) == 2:
            done.set()

    ea, eb = a.Election("/r/election", "a"), b.Election("/r/election", "b")
    ta = threading.Thread(target=ea.run, args=(lead, "a"))
    ta.start()
    wait(lambda: order == ["a"], "A elected first")
    tb = threading.Thread(target=eb.run, args=(lead, "b"))
    tb.start()
    check(done.wait(10), "B elected after A's term ended")
    ta.join(10)
    tb.join(10)
    check(order == ["a", "b"], "election order %r" % order)


def counter(a, b):
    ca, cb = a.Counter("/r/counter"), b.Counter("/r/counter")

    def add(c):
        for _ in range(25):
            c += 1

    ts = [threading.Thread(target=add, args=(c,)) for c in (ca, cb)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    check(ca.value == 50 and cb.value == 50, "counter %r/%r, want 50" % (ca.value, cb.value))
    cb -= 8
    check(ca.value == 42, "counter after -8: %r" % ca.value)


def queue(a, b):
    qa, qb = a.Queue("/r/queue"), b.Queue("/r/queue")
    for i in range(5):
        qa.put(b"item%d" % i)
    qa.put(b"urgent", priority=1)
    check(len(qb) == 6, "queue length %d" % len(qb))
    got = [qb.get() for _ in range(6)]
    check(got == [b"urgent"] + [b"item%d" % i for i in range(5)], "queue order %r" % got)
    check(qb.get() is None, "empty queue")


def locking_queue(a, b):
    qa, qb = a.LockingQueue("/r/lqueue"), b.LockingQueue("/r/lqueue")
    qa.put(b"job1")
    qa.put(b"job2")
    check(qb.get(5) == b"job1", "B takes job1")
    check(qa.get(0.5) == b"job2", "A takes job2 while B holds job1")
    check(qb.consume(), "B consumes job1")
    check(qa.consume(), "A consumes job2")
    check(len(qb) == 0, "locking queue empty")


def party(a, b):
    pa, pb = a.Party("/r/party", "a"), b.Party("/r/party", "b")
    pa.join()
    pb.join()
    check(sorted(pa) == ["a", "b"], "party %r" % sorted(pa))
    pb.leave()
    check(list(pa) == ["a"], "party after B left %r" % list(pa))
    pa.leave()


def barrier(a, b):
    ba, bb = a.Barrier("/r/barrier"), b.Barrier("/r/barrier")
    ba.create()
    passed = []
    t = threading.Thread(target=lambda: passed.append(bb.wait(10)))
    t.start()
    time.sleep(0.3)
    check(passed == [], "B passed a standing barrier")
    ba.remove()
    t.join(15)
    check(passed == [True], "B passes once the barrier is removed")


def double_barrier(a, b):
    da, db = a.DoubleBarrier("/r/dbarrier", 2), b.DoubleBarrier("/r/dbarrier", 2)
    steps = []
    t = threading.Thread(target=lambda: (da.enter(), steps.append("a in"), da.leave(), steps.append("a out")))
    t.start()
    time.sleep(0.3)
    check(steps == [], "A entered alone")
    db.enter()
    wait(lambda: "a in" in steps, "A enters once B does")
    db.leave()
    t.join(15)
    check(steps == ["a in", "a out"], "double barrier steps %r" % steps)


def semaphore(a, b):
    sa, sb = a.Semaphore("/r/sem", "a", max_leases=1), b.Semaphore("/r/sem", "b", max_leases=1)
    check(sa.acquire(timeout=5), "A leases")
    check(not sb.acquire(blocking=False), "B leased past the limit")
    check(sb.lease_holders() == ["a"], "holders %r" % sb.lease_holders())
    sa.release()
    check(sb.acquire(timeout=5), "B leases after A released")
    sb.release()


def watches(a, b):
    a.ensure_path("/r/watched")
    seen = []
    a.DataWatch("/r/watched", lambda data, stat: seen.append(data))
    wait(lambda: len(seen) >= 1, "the first data watch call")
    b.set("/r/watched", b"v1")
    b.set("/r/watched", b"v2")
    wait(lambda: seen[-1:] == [b"v2"], "data watch saw v2 (%r)" % seen)
    kids = []
    a.ChildrenWatch("/r/watched", lambda c: kids.append(sorted(c)))
    b.create("/r/watched/x")
    b.create("/r/watched/y")
    wait(lambda: kids[-1:] == [["x", "y"]], "children watch saw x and y (%r)" % kids)
    b.delete("/r/watched/x")
    wait(lambda: kids[-1:] == [["y"]], "children watch saw x go (%r)" % kids)


def transactions(a, b):
    a.create("/r/tx", b"0")
    t = a.transaction()
    t.check("/r/tx", 0)
    t.set_data("/r/tx", b"1")
    t.create("/r/tx/child", b"c")
    res = t.commit()
    check(len(res) == 3 and res[2] == "/r/tx/child", "committed %r" % (res,))
    data, stat = b.get("/r/tx")
    check(data == b"1" and stat.version == 1, "B sees the committed transaction")
    t = b.transaction()
    t.create("/r/tx/other", b"o")
    t.check("/r/tx", 0)  # stale version: the whole transaction fails
    res = t.commit()
    check(isinstance(res[0], RolledBackError) and isinstance(res[1], BadVersionError), "failed transaction %r" % (res,))
    check(a.exists("/r/tx/other") is None, "a failed transaction left a node")
    try:
        a.create("/r/tx/child")
        raise AssertionError("created an existing node")
    except NodeExistsError:
        pass


def main():
    a = KazooClient(hosts=sys.argv[1], timeout=10)
    b = KazooClient(hosts=sys.argv[2], timeout=10)
    a.start(timeout=15)
    b.start(timeout=15)
    a.ensure_path("/r")
    for recipe in (lock, election, counter, queue, locking_queue, party, barrier,
                   double_barrier, semaphore, watches, transactions):
        recipe(a, b)
        print(recipe.__name__, "ok", flush=True)
    a.stop()
    b.stop()
    a.close()
    b.close()
    time.sleep(0.2)
    if collect.records:
        print("kazoo logged:\n" + "\n".join(collect.records))
        sys.exit(1)
    print("ALL OK")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAILED:", e)
        if collect.records:
            print("kazoo logged:\n" + "\n".join(collect.records))
        sys.exit(1)
