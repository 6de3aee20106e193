package io.modelship.server.serve.batch;

import io.modelship.server.serve.metrics.ModelMetrics;
import io.modelship.server.serve.model.InferenceException;
import io.modelship.server.serve.model.ModelRunner;
import io.modelship.server.serve.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single FIFO queue in front of one model version, and the worker threads that drain it. Consecutive
 * requests from the head of the queue are concatenated along dim 0 into one model run, up to the policy's rows,
 * and the outputs are split back row by row. A request that cannot join the batch being formed ends it: nothing
 * ever overtakes an earlier request. Only one worker forms a batch at a time, so batches start in queue order.
 *
 * <p>Waiting: a batch waits for more requests (at most the policy's delay) only while requests for this model
 * are known to be on their way, i.e. announced by the HTTP layer but not yet queued. A lone client therefore
 * never pays the delay, and under load batches fill from requests that queued while the previous batch ran.
 *
 * <p>Bounded: at most {@code maxQueuedRows} rows wait (the batch running is not counted). A request that would
 * go past that is refused at once with a {@link QueueFullException} instead of waiting without bound; a
 * request arriving at an empty queue is always taken, however many rows it has (the body limit bounds it).
 * Warm-up inferences are never refused.
 *
 * <p>It never validates requests (they arrive checked against the signature) and never touches HTTP.
 */
public final class BatchQueue implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BatchQueue.class);

  private final String label;
  private final BatchPolicy policy;
  private final ModelMetrics metrics;
  private final BatchObserver observer;
  private final Consumer<Error> onError;
  private final int maxQueuedRows;
  /** Rows of the requests in {@link #queue}, guarded by {@link #lock}; read without it for a quick check. */
  private volatile int queuedRows;
  private final ArrayDeque<PendingInference> queue = new ArrayDeque<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ReentrantLock forming = new ReentrantLock(true);
  private final AtomicInteger arriving = new AtomicInteger();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean modelBatchable;
  private boolean closed;

  public BatchQueue(
      String label,
      BatchPolicy policy,
      boolean modelBatchable,
      Supplier<ModelRunner> runners,
      int workerCount,
      int maxQueuedRows,
      ModelMetrics metrics,
      BatchObserver observer,
      Consumer<Error> onError) {
    if (maxQueuedRows < 1) {
      throw new IllegalArgumentException("maxQueuedRows must be at least 1, was " + maxQueuedRows);
    }
    this.label = label;
    this.maxQueuedRows = maxQueuedRows;
    this.policy = policy;
    this.modelBatchable = modelBatchable && policy.maxBatchSize() > 1;
    this.metrics = metrics;
    this.observer = observer;
    this.onError = onError;
    metrics.watchQueueDepth(this::depth);
    for (int i = 0; i < workerCount; i++) {
      ModelRunner runner = runners.get();
      Thread worker = new Thread(() -> work(runner), "batch-" + label + "-" + i);
      worker.setDaemon(true);
      workers.add(worker);
    }
    workers.forEach(Thread::start);
  }

  /** A request for this model has started to arrive; batches being formed may wait for it. */
  public void announce() {
    arriving.incrementAndGet();
  }

  /** An announced request will not be queued after all (bad input, refused, connection lost). */
  public void withdraw() {
    arriving.decrementAndGet();
    signal();
  }

  /**
   * Queues checked inputs, in declaration order; the future completes with every output of the model, or with
   * an {@link InferenceException}, or at once with a {@link QueueFullException} when the queue has no room.
   * {@code announced} says whether {@link #announce()} was called for it.
   */
  public CompletableFuture<List<Tensor>> submit(List<Tensor> inputs, boolean announced, boolean warmUp) {
    PendingInference pending = new PendingInference(inputs, modelBatchable, warmUp);
    lock.lock();
    try {
      if (announced) {
        arriving.decrementAndGet();
      }
      if (closed) {
        pending.result.completeExceptionally(new InferenceException("the model is shutting down"));
      } else if (!warmUp && !queue.isEmpty() && queuedRows + pending.queueRows > maxQueuedRows) {
        pending.result.completeExceptionally(new QueueFullException(maxQueuedRows));
      } else {
        queue.addLast(pending);
        queuedRows += pending.queueRows;
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    return pending.result;
  }

  /** Requests waiting, not counting the batch running now. */
  public int depth() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the rows waiting already reached the limit, so a new request would surely be refused: a cheap check
   * before decoding a body. {@link #submit} decides for certain.
   */
  public boolean full() {
    return queuedRows >= maxQueuedRows;
  }

  public boolean batching() {
    return modelBatchable;
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void work(ModelRunner runner) {
    try (runner) {
      while (true) {
        List<PendingInference> batch = nextBatch();
        if (batch == null) {
          return;
        }
        try {
          run(runner, batch);
        } catch (RuntimeException | Error e) {
          // Not one request's fault (those are answered inside run): the worker goes on, and every request of
          // this batch still gets an answer instead of waiting for ever.
          for (PendingInference pending : batch) {
            pending.result.completeExceptionally(
                new InferenceException("inference failed: " + e.getClass().getSimpleName(), e));
          }
          if (e instanceof Error error) {
            onError.accept(error);
          } else {
            LOG.error("{}: a batch of {} failed", label, batch.size(), e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("batch worker {} stopped", Thread.currentThread().getName(), e);
    }
  }

  /** Takes the next batch off the head of the queue; null once closed and empty. */
  private List<PendingInference> nextBatch() throws InterruptedException {
    forming.lockInterruptibly();
    try {
      lock.lockInterruptibly();
      try {
        return formBatch();
      } finally {
        lock.unlock();
      }
    } finally {
      forming.unlock();
    }
  }

  private List<PendingInference> formBatch() throws InterruptedException {
    while (queue.isEmpty()) {
      if (closed) {
        return null;
      }
      changed.await();
    }
    PendingInference first = take();
    List<PendingInference> batch = new ArrayList<>();
    batch.add(first);
    if (!modelBatchable || !first.batchable()) {
      return batch;
    }
    int rows = first.rows;
    long deadline = first.queuedAt + policy.maxDelay().toNanos();
    while (rows < policy.maxBatchSize()) {
      PendingInference next = queue.peekFirst();
      if (next != null) {
        if (!next.batchable()
            || rows + next.rows > policy.maxBatchSize()
            || !first.sameRowShape(next)) {
          break;
        }
        take();
        batch.add(next);
        rows += next.rows;
        continue;
      }
      long wait = deadline - System.nanoTime();
      if (wait <= 0 || arriving.get() <= 0 || closed) {
        break;
      }
      changed.awaitNanos(wait);
    }
    return batch;
  }

  private PendingInference take() {
    PendingInference head = queue.pollFirst();
    queuedRows -= head.queueRows;
    return head;
  }

  private void run(ModelRunner runner, List<PendingInference> batch) {
    long start = System.nanoTime();
    int rows = 0;
    for (PendingInference pending : batch) {
      rows += Math.max(pending.rows, 1);
      if (!pending.warmUp) {
        metrics.queued(start - pending.queuedAt);
      }
    }
    observer.beforeRun(batch.size(), rows);
    if (batch.size() == 1) {
      runAlone(runner, batch.get(0));
      record(batch, rows, start);
      return;
    }
    List<List<Tensor>> split;
    try {
      split = split(runner.run(concatenate(batch, rows)), batch, rows);
      if (split == null) {
        LOG.warn("{}: an output's first dimension does not follow the batch; running requests one by one from now on",
            label);
        modelBatchable = false;
      }
    } catch (RuntimeException e) {
      // One bad request must not fail the others it was batched with: each gets its own run and its own answer.
      LOG.debug("{}: a batch of {} failed ({}); running its requests one by one", label, batch.size(),
          e.getMessage());
      split = null;
    }
    for (int i = 0; i < batch.size(); i++) {
      if (split != null) {
        batch.get(i).result.complete(split.get(i));
      } else {
        runAlone(runner, batch.get(i));
      }
    }
    record(batch, rows, start);
  }

  private void runAlone(ModelRunner runner, PendingInference pending) {
    try {
      pending.result.complete(runner.run(pending.inputs));
    } catch (RuntimeException e) {
      InferenceException failure =
          e instanceof InferenceException known ? known : new InferenceException("inference failed", e);
      LOG.warn("{}: {}", label, failure.getMessage(), e);
      pending.result.completeExceptionally(failure);
    }
  }

  private void record(List<PendingInference> batch, int rows, long start) {
    if (batch.stream().anyMatch(pending -> !pending.warmUp)) {
      metrics.batch(rows, System.nanoTime() - start);
    }
  }

  private static List<Tensor> concatenate(List<PendingInference> batch, int rows) {
    List<Tensor> first = batch.get(0).inputs;
    List<Tensor> joined = new ArrayList<>(first.size());
    for (int i = 0; i < first.size(); i++) {
      Tensor model = first.get(i);
      ByteBuffer data = ByteBuffer.allocate(model.rowBytes() * rows).order(ByteOrder.nativeOrder());
      for (PendingInference pending : batch) {
        data.put(pending.inputs.get(i).data());
      }
      data.flip();
      long[] shape = model.shape();
      shape[0] = rows;
      joined.add(new Tensor(model.name(), model.datatype(), shape, data));
    }
    return joined;
  }

  /** Outputs per request, or null when an output's first dimension is not the batch's rows. */
  private static List<List<Tensor>> split(List<Tensor> outputs, List<PendingInference> batch, int rows) {
    for (Tensor output : outputs) {
      if (output.rows() != rows) {
        return null;
      }
    }
    List<List<Tensor>> perRequest = new ArrayList<>(batch.size());
    int offset = 0;
    for (PendingInference pending : batch) {
      List<Tensor> own = new ArrayList<>(outputs.size());
      for (Tensor output : outputs) {
        int rowBytes = output.rowBytes();
        ByteBuffer data = output.data();
        data.position(offset * rowBytes).limit((offset + pending.rows) * rowBytes);
        long[] shape = output.shape();
        shape[0] = pending.rows;
        own.add(new Tensor(output.name(), output.datatype(), shape, data));
      }
      perRequest.add(own);
      offset += pending.rows;
    }
    return perRequest;
  }

  /** Stops the workers once the queue is empty; anything still queued after ten seconds fails. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread worker : workers) {
      try {
        worker.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    lock.lock();
    try {
      PendingInference left;
      while (!queue.isEmpty()) {
        left = take();
        left.result.completeExceptionally(new InferenceException("the model is shutting down"));
      }
    } finally {
      lock.unlock();
    }
  }
}
