#include "engine/jobs/scheduler.h"

#include <algorithm>

namespace engine {

void Scheduler::Submit(std::vector<Access> accesses, PlaceFn place, RunFn run, bool quick) {
  // One entry per name; a job that reads and writes a name writes it.
  std::sort(accesses.begin(), accesses.end(),
            [](const Access& a, const Access& b) { return a.name < b.name; });
  std::vector<Access> merged;
  for (Access& a : accesses) {
    if (!merged.empty() && merged.back().name == a.name) {
      merged.back().write = merged.back().write || a.write;
    } else {
      merged.push_back(std::move(a));
    }
  }

  auto owned = std::make_unique<Task>();
  Task* task = owned.get();
  task->accesses = std::move(merged);
  task->place = std::move(place);
  task->run = std::move(run);
  bool ready = false;
  {
    absl::MutexLock lock(&mu_);
    for (const Access& a : task->accesses) queues_[a.name].push_back(Entry{task, a.write});
    tasks_.emplace(task, std::move(owned));
    ready = Admitted(*task);
    task->started = ready;
  }
  if (ready) Dispatch(task, quick);
}

bool Scheduler::Admitted(const Task& task) const {
  for (const Access& a : task.accesses) {
    const std::deque<Entry>& q = queues_.at(a.name);
    for (const Entry& e : q) {
      if (e.task == &task) break;
      if (e.write || a.write) return false;  // a writer before us, or we write behind someone
    }
  }
  return true;
}

void Scheduler::CollectReady(const std::vector<std::string>& names, std::vector<Task*>* ready) {
  for (const std::string& name : names) {
    auto it = queues_.find(name);
    if (it == queues_.end()) continue;
    for (const Entry& e : it->second) {
      if (!e.task->started && Admitted(*e.task)) {
        e.task->started = true;
        ready->push_back(e.task);
      }
      if (e.write) break;  // nothing behind a writer can be admitted on this name
    }
  }
}

void Scheduler::Dispatch(Task* task, bool here) {
  Device& device = task->place();
  Stream& stream = device.LeastBusyStream();
  const auto run = [this, task, &stream] {
    task->run(stream);
    Finish(task);
  };
  if (here && stream.TryRunHere(run)) return;
  stream.Post(run);
}

void Scheduler::Finish(Task* task) {
  std::vector<Task*> ready;
  std::unique_ptr<Task> done;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> names;
    for (const Access& a : task->accesses) {
      std::deque<Entry>& q = queues_[a.name];
      q.erase(std::find_if(q.begin(), q.end(), [task](const Entry& e) { return e.task == task; }));
      if (q.empty()) {
        queues_.erase(a.name);
      } else {
        names.push_back(a.name);
      }
    }
    auto it = tasks_.find(task);
    done = std::move(it->second);
    tasks_.erase(it);
    CollectReady(names, &ready);
    if (tasks_.empty()) idle_.SignalAll();
  }
  for (Task* t : ready) Dispatch(t);
}

size_t Scheduler::outstanding() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

bool Scheduler::WaitIdle(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  while (!tasks_.empty()) {
    if (idle_.WaitWithDeadline(&mu_, deadline)) return tasks_.empty();
  }
  return true;
}

}  // namespace engine
