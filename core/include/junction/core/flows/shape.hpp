// The one interface every shape implements. A shape receives batches, does its one job
// and passes what comes out along its links; the run drives batches depth-first from the
// start shape, so a page flows through the whole graph before the next page is read.
// Adding a shape is adding one file under core/src/flows/shapes/ named NAME_shape.cpp
// that defines `void register_NAME_shape(ShapeRegistry&)` (the build finds it).
#pragma once

#include <junction/core/flows/record_batch.hpp>
#include <junction/core/flows/spec.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace junction::core {
class Store;
class InstanceRuntime;
}  // namespace junction::core

namespace junction::core::flows {

class RunContext;
class Shape;

// An edge of the graph: the id the document names, resolved when the graph is linked.
struct Link {
    std::string target;  // empty: the end of the flow
    std::string path;    // where the document names it, for errors
    Shape* shape = nullptr;
};

class Shape {
public:
    explicit Shape(std::string id) : id_(std::move(id)) {}
    virtual ~Shape() = default;
    Shape(const Shape&) = delete;
    Shape& operator=(const Shape&) = delete;

    const std::string& id() const { return id_; }

    // Counts the batch in, then processes it.
    void receive(Batch batch, RunContext& run);
    // After the last batch: pass on whatever is held back.
    virtual void finish(RunContext&) {}
    // True while records wait inside (a checkpoint must not pass them).
    virtual bool holds_records() const { return false; }
    // A shape that works on a page in the background (a send) holds it until the next page
    // reaches it: true while it does. The page's checkpoint waits for it (RunContext::page_done).
    virtual bool holds_page() const { return false; }
    // Waits for the page it holds and passes on what came of it.
    virtual void settle(RunContext&) {}
    // Waits for the page it holds and drops it: the run ends without it.
    virtual void abandon() {}
    // A source reads records itself (a receive connection); it must be reached once per run.
    virtual bool is_source() const { return false; }
    // Whether an empty batch (a trigger with no payload) is worth passing to it: true for
    // sources and for shapes that only lead the way to them (branch, try).
    virtual bool takes_trigger() const { return is_source(); }

    std::deque<Link>& links() { return links_; }

protected:
    virtual void process(Batch batch, RunContext& run) = 0;
    // Adds an edge named by `spec`'s member `key` (absent: end of flow when `optional`).
    Link& link_from(const Spec& spec, const char* key, bool optional = true);
    Link& link_to(std::string target, std::string path);
    // Counts the batch out and hands it to the link's shape (nothing when it is the end).
    void forward(Link& link, Batch batch, RunContext& run);

private:
    std::string id_;
    std::deque<Link> links_;  // stable addresses
};

// What building a shape may look at: the store and the registry (connection shapes check
// their instance and endpoint), and where they say which instance they use.
struct BuildContext {
    Store& store;
    InstanceRuntime& runtime;
    // shape id -> instance id: filled by connection shapes; read first when already set
    // (a run uses the instances the flow was saved with, even after a rename).
    std::map<std::string, std::string> instances;
};

using ShapeBuilder = std::function<std::unique_ptr<Shape>(const Spec& spec, const std::string& id, BuildContext& ctx)>;

class ShapeRegistry {
public:
    void add(std::string type, ShapeBuilder builder) { builders_[std::move(type)] = std::move(builder); }
    const ShapeBuilder* find(const std::string& type) const {
        auto it = builders_.find(type);
        return it == builders_.end() ? nullptr : &it->second;
    }
    std::string names() const;  // "branch, connection, ..."

    // Every shape compiled in (the generated list of register_NAME_shape calls).
    static const ShapeRegistry& builtin();

private:
    std::map<std::string, ShapeBuilder> builders_;
};

}  // namespace junction::core::flows
