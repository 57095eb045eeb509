// The processor on the worker stream recorded from Debian's ansible-runner 2.3.1
// (tests/fixtures/vectors, copied from ../shared/vectors).

#include "stream/processor.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
const fs::path kVectors = fs::path(ARUNNER_FIXTURES) / "vectors";

using testing::slurp;

ProcessResult process_file(const fs::path& stream, const ProcessorOptions& options) {
    util::UniqueFd fd(::open(stream.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    return run_processor(fd.get(), options);
}

TEST(Processor, RecordedWorkerStreamGivesTheRunsArtifacts) {
    testing::TempDir tmp;
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.ident = "00000000000000000000000000000001";
    options.console_fd = -1;
    std::vector<std::string> statuses;
    std::vector<std::string> event_types;
    options.callbacks.status_handler = [&](const StatusUpdate& u) {
        statuses.push_back(std::string(to_string(u.status)));
        if (u.status == JobStatus::starting) {
            EXPECT_EQ(u.command,
                      (std::vector<std::string>{"ansible-playbook", "-i",
                                                "/tmp/arunner-vector/inventory", "site.yml"}));
            EXPECT_EQ(u.cwd, "/tmp/arunner-vector/project");
        }
    };
    options.callbacks.event_handler = [&](Json& e) {
        event_types.push_back(e["event"].get<std::string>());
        return true;
    };
    bool artifacts_called = false;
    options.callbacks.artifacts_handler = [&](const fs::path&) { artifacts_called = true; };
    ProcessResult result = process_file(kVectors / "small.worker-stream", options);
    EXPECT_EQ(result.status, JobStatus::successful);
    EXPECT_EQ(statuses, (std::vector<std::string>{"starting", "running", "successful"}));
    EXPECT_EQ(event_types.size(), 14u);
    EXPECT_EQ(event_types.front(), "playbook_on_start");
    EXPECT_EQ(event_types.back(), "playbook_on_stats");
    EXPECT_TRUE(artifacts_called);
    fs::path art = tmp / "artifacts/00000000000000000000000000000001";
    EXPECT_EQ(slurp(art / "status"), "successful");
    EXPECT_EQ(slurp(art / "rc"), "0");
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(art / "job_events")) {
        ++files;
    }
    EXPECT_EQ(files, 14u);
    EXPECT_NE(slurp(art / "stdout").find("PLAY [vector play]"), std::string::npos);
}

TEST(Processor, WithoutIdentArtifactsGoToTheArtifactsDir) {
    testing::TempDir tmp;
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.console_fd = -1;
    ProcessResult result = process_file(kVectors / "small.worker-stream", options);
    EXPECT_EQ(result.status, JobStatus::successful);
    EXPECT_EQ(slurp(tmp / "artifacts/status"), "successful");
}

TEST(Processor, FalseFromTheEventHandlerWritesNoFiles) {
    testing::TempDir tmp;
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.ident = "x";
    options.console_fd = -1;
    options.callbacks.event_handler = [](Json&) { return false; };
    process_file(kVectors / "small.worker-stream", options);
    EXPECT_TRUE(fs::is_empty(tmp / "artifacts/x/job_events"));
}

TEST(Processor, StreamCutInsideTheZipIsAnError) {
    testing::TempDir tmp;
    std::string stream = slurp(kVectors / "small.worker-stream");
    size_t zip = stream.find("{\"zipfile\"");
    ASSERT_NE(zip, std::string::npos);
    std::ofstream(tmp / "cut") << stream.substr(0, zip + 100);
    ProcessorOptions options;
    options.private_data_dir = tmp / "out";
    options.console_fd = -1;
    ProcessResult result = process_file(tmp / "cut", options);
    EXPECT_EQ(result.status, JobStatus::error);
    EXPECT_NE(result.error.find("zip"), std::string::npos) << result.error;
}

/// Recursively the same values of the same types in the same order (nlohmann's == mixes
/// number types).
void expect_same_json(const Json& got, const Json& want, const std::string& where) {
    ASSERT_EQ(got.type(), want.type()) << where;
    ASSERT_EQ(got.dump(), want.dump()) << where;
    if (got.is_object()) {
        auto g = got.items().begin();
        for (const auto& [key, value] : want.items()) {
            ASSERT_EQ(g.key(), key) << where;
            expect_same_json(g.value(), value, where + ("." + key));
            ++g;
        }
    } else if (got.is_array()) {
        for (size_t i = 0; i < want.size(); ++i) {
            expect_same_json(got[i], want[i], where + "[" + std::to_string(i) + "]");
        }
    }
}

/// fast_parse() accepts only what nlohmann accepts, and then builds what nlohmann builds, into
/// a new value and into `reused` (which holds whatever the text before left in it).
void check_fast_parse(const std::string& text, bool must_accept, Json& reused) {
    Json want = Json::parse(text, nullptr, false);
    Json got;
    bool accepted = detail::fast_parse(text, got);
    if (must_accept) {
        EXPECT_TRUE(accepted) << text;
    }
    if (accepted) {
        ASSERT_FALSE(want.is_discarded()) << "accepted what nlohmann rejects: " << text;
        expect_same_json(got, want, text);
    }
    if (detail::fast_parse(text, reused)) {
        ASSERT_TRUE(accepted) << text;
        expect_same_json(reused, want, text);
    }
}

void check_fast_parse(const std::string& text, bool must_accept) {
    Json fresh;
    check_fast_parse(text, must_accept, fresh);
}

TEST(ProcessorFastParse, AgreesWithNlohmann) {
    for (const char* text : {
             R"({})",
             R"( {"a" : [1, -2, 3.5, -0, 0.0, 1e3, 1E-2, 2.5e+2, true, false, null, {}, []]} )",
             R"({"big": 18446744073709551615, "bigger": 18446744073709551616})",
             R"({"neg": -9223372036854775808, "more": -9223372036854775809})",
             R"({"s": "a\"b\\c\/d\b\f\n\r\tx\u0000\u00e9\u20ac\ud83d\ude00\uABCD"})",
             "{\"raw\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
             R"({"dup": 1, "x": 2, "dup": {"y": [3]}})",
             R"({"n\u0061me": "escaped key", "name": "plain"})",
             R"([1, 2])",
             R"("just a string")",
             "{\"tab\":\t1,\r\n\"x\":2}",
         }) {
        check_fast_parse(text, true);
    }
    // One value reused from text to text: members renamed, reordered, repeated, dropped; types
    // changed.
    Json reused;
    for (const char* text : {
             R"({"a": 1, "b": "x", "c": [1, 2, 3], "d": {"e": null}})",
             R"({"a": 2, "b": "a longer string than before, so it grows", "c": [4], "d": {}})",
             R"({"a": 3, "x": 1, "c": [5, 6, 7, 8], "d": {"e": 1, "f": 2}})",
             R"({"a": 4, "b": "y", "a": 5, "c": {"now": "an object"}, "d": [1]})",
             R"({"b": "z", "a": 6})",
             R"({"a": 7})",
             R"({"a": 8, "b": 9, "c": 10, "d": 11, "e": 12})",
             R"([{"a": 1}, {"a": 2}])",
             R"({"a": "s", "b": "t", "b": {"u": 1}, "b": "v"})",
         }) {
        check_fast_parse(text, true, reused);
    }
    for (const char* text : {
             "",
             " ",
             "{",
             "}",
             "{\"a\"}",
             "{\"a\":}",
             "{\"a\":1,}",
             "[1,]",
             "{\"a\":01}",
             "{\"a\":1.}",
             "{\"a\":.5}",
             "{\"a\":1e}",
             "{\"a\":-}",
             "{\"a\":+1}",
             "{\"a\":tru}",
             "{\"a\":truex}",
             "{\"a\":NaN}",
             "{\"a\":Infinity}",
             "{'a':1}",
             "{\"a\":\"\\x\"}",
             "{\"a\":\"\\u12\"}",
             "{\"a\":\"\\ud800\"}",
             "{\"a\":\"\\udc00\"}",
             "{\"a\":\"\\ud800\\u0041\"}",
             "{\"a\":\"\x01\"}",
             "{\"a\":\"\xc0\xaf\"}",
             "{\"a\":\"\xed\xa0\x80\"}",
             "{\"a\":\"\xf4\x90\x80\x80\"}",
             "{\"a\":\"\xe2\x82\"}",
             "{\"a\":1} x",
             "{\"a\":1}{}",
             "\xef\xbb\xbf{}",
             "{\"a\":1e400}",
             "{\"a\":1e-400}",
         }) {
        check_fast_parse(text, false);
    }
    std::string deep(300, '[');
    deep += std::string(300, ']');
    check_fast_parse(deep, false);
}

TEST(ProcessorFastParse, RecordedStreamLinesAndTheirMutations) {
    std::istringstream stream(slurp(kVectors / "small.worker-stream"));
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(stream, line)) {
        if (line.rfind("{\"zipfile\"", 0) == 0) {
            break;
        }
        lines.push_back(line);
    }
    ASSERT_GT(lines.size(), 10u);
    uint32_t seed = 12345;
    auto next = [&] {
        seed = seed * 1103515245 + 12345;
        return seed >> 8;
    };
    const std::string alphabet = "{}[]\",:\\/ 0123456789.eE+-tfnulrsabu\x01\x7f\x80\xc3\xe2\xff";
    Json reused;
    for (const std::string& original : lines) {
        check_fast_parse(original, true, reused);
        for (int i = 0; i < 200; ++i) {
            std::string mutated = original;
            size_t at = next() % mutated.size();
            switch (next() % 3) {
                case 0:
                    mutated[at] = alphabet[next() % alphabet.size()];
                    break;
                case 1:
                    mutated.erase(at, 1 + next() % 3);
                    break;
                default:
                    mutated.insert(at, 1, alphabet[next() % alphabet.size()]);
            }
            check_fast_parse(mutated, false, reused);
        }
    }
}

/// Runs `stream` through the processor without a handler (or with one that returns true):
/// the job_events files by name and the echo.
struct Processed {
    std::map<std::string, std::string> files;
    std::string echo;
    ProcessResult result;
};

Processed process_text(const std::string& stream, bool with_handler,
                       const std::map<std::string, std::string>& existing = {}) {
    testing::TempDir tmp;
    std::ofstream(tmp / "stream") << stream;
    fs::create_directories(tmp / "artifacts/x/job_events");
    for (const auto& [name, content] : existing) {
        std::ofstream(tmp / "artifacts/x/job_events" / name) << content;
        fs::permissions(tmp / "artifacts/x/job_events" / name, fs::perms(0644));
    }
    util::UniqueFd echo(::open((tmp / "echo").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.ident = "x";
    options.console_fd = echo.get();
    if (with_handler) {
        options.callbacks.event_handler = [](Json&) { return true; };
    }
    Processed out;
    out.result = process_file(tmp / "stream", options);
    for (const auto& e : fs::directory_iterator(tmp / "artifacts/x/job_events")) {
        out.files[e.path().filename().string()] = slurp(e.path());
        EXPECT_EQ(fs::status(e.path()).permissions(), fs::perms(0600)) << e.path();
    }
    out.echo = slurp(tmp / "echo");
    return out;
}

/// A uuid in ansible-runner's form whose last digits are `n`.
std::string uid(int n) {
    char text[40];
    std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", n);
    return text;
}

TEST(Processor, EventLinesOfEveryShape) {
    auto q = [](int n) { return "\"" + uid(n) + "\""; };
    const std::string lines[] = {
        R"({"counter": 1, "uuid": )" + q(1) +
            R"(, "stdout": "x\u00e9\ud83d\ude00\r\n\"y\"", "event": "v"})",
        R"({"uuid":)" + q(2) + R"(,"counter":2})",
        R"({"counter": 0, "uuid": )" + q(99) + "}",
        R"({"counter": -0, "uuid": )" + q(99) + "}",
        R"({"counter": 4, "uuid": ""})",
        R"({"counter": 4, "uuid": null})",
        R"({"uuid": )" + q(99) + "}",
        R"({"event": "keepalive", "counter": 11, "uuid": "k"})",
        R"({"counter": 6, "uuid": )" + q(5) + R"(, "counter": 7})",
        // An escape in the uuid: built and named by the slow path, the same name.
        R"({"counter": 8, "uuid": "00000000-0000-4000-8000-00000000000\u0038"})",
        R"({"event": 5, "counter": 9, "uuid": )" + q(9) + "}",
        R"({"counter": 10, "uuid": )" + q(10) + R"(, "stdout": 42})",
        R"({"counter": 12, "uuid": )" + q(12) + R"(, "stdout": "plain"})",
        R"({"counter": 12, "uuid": )" + q(12) + R"(, "stdout": "again, replaced"})",
        R"({"counter": 13, "uuid": "0000000A-0000-4000-8000-00000000000B", "event_data": {"deep": [[[{"a": null}]]]}})",
        R"({"status": "successful", "runner_ident": "x"})",
        R"({"eof": true})",
    };
    std::string stream;
    for (const auto& line : lines) {
        stream += line;
        stream += '\n';
    }
    auto file = [](int counter, int n) { return std::to_string(counter) + "-" + uid(n) + ".json"; };
    Processed plain = process_text(stream, false, {{file(1, 1), std::string(5000, 'o')}});
    EXPECT_EQ(plain.result.status, JobStatus::successful) << plain.result.error;
    std::map<std::string, std::string> want = {
        {file(1, 1), lines[0]},    {file(2, 2), lines[1]},
        {file(7, 5), lines[8]},    {file(8, 8), lines[9]},
        {file(9, 9), lines[10]},   {file(10, 10), lines[11]},
        {file(12, 12), lines[13]}, {"13-0000000A-0000-4000-8000-00000000000B.json", lines[14]},
    };
    EXPECT_EQ(plain.files, want);
    EXPECT_EQ(plain.echo, "x\xc3\xa9\xf0\x9f\x98\x80\r\n\"y\"\n42\nplain\nagain, replaced\n");

    // With a handler every event is built and dumped again: the same files, Python's JSON.
    Processed handled = process_text(stream, true);
    EXPECT_EQ(handled.echo, plain.echo);
    std::string names;
    for (const auto& [name, content] : handled.files) {
        names += name + " ";
    }
    ASSERT_EQ(handled.files.size(), want.size()) << names;
    for (const auto& [name, content] : want) {
        ASSERT_EQ(handled.files.count(name), 1u) << name;
        EXPECT_EQ(Json::parse(handled.files[name]), Json::parse(content)) << name;
    }
    EXPECT_EQ(handled.files[file(2, 2)], R"({"uuid": ")" + uid(2) + R"(", "counter": 2})");
}

TEST(Processor, EventNamesFromABadCounterOrUuidAreAnErrorNamingTheField) {
    const std::string good = "\"" + uid(1) + "\"";
    const std::pair<std::string, const char*> cases[] = {
        {R"({"counter": 1, "uuid": "../../../escaped"})", "uuid"},
        {R"({"counter": 1, "uuid": "a"})", "uuid"},
        {R"({"counter": 1, "uuid": 5})", "uuid"},
        {R"({"counter": 1, "uuid": ")" + uid(1) + "/..\"}", "uuid"},
        {R"({"counter": "../x", "uuid": )" + good + "}", "counter"},
        {R"({"counter": "3", "uuid": )" + good + "}", "counter"},
        {R"({"counter": 5.0, "uuid": )" + good + "}", "counter"},
        {R"({"counter": true, "uuid": )" + good + "}", "counter"},
        {R"({"counter": -13, "uuid": )" + good + "}", "counter"},
        {R"({"counter": [1], "uuid": )" + good + "}", "counter"},
    };
    for (bool with_handler : {false, true}) {
        for (const auto& [line, field] : cases) {
            Processed out = process_text(line + "\n{\"eof\": true}\n", with_handler);
            EXPECT_EQ(out.result.status, JobStatus::error) << line;
            EXPECT_NE(out.result.error.find(std::string("the event's ") + field), std::string::npos)
                << out.result.error;
            EXPECT_NE(out.result.error.find("cannot name an event file"), std::string::npos)
                << out.result.error;
            EXPECT_TRUE(out.files.empty()) << line;
        }
    }
}

TEST(Processor, WrongTypedStatusFieldsAreAnErrorStatusNeverACrash) {
    // ansible-runner exits 0 on these; arunner aborted (SIGABRT) on the first two.
    const std::pair<std::string, std::string> explained[] = {
        {"1", "1"},
        {"null", "the worker reported an error"},
        {"[1, \"two\"]", "[1,\"two\"]"},
        {"{\"a\": 1}", "{\"a\":1}"},
        {"\"in words\"", "in words"},
    };
    for (bool with_handler : {false, true}) {
        for (const auto& [value, error] : explained) {
            std::string stream = R"({"status": "error", "job_explanation": )" + value +
                                 ", \"runner_ident\": 5, \"cwd\": [], \"command\": \"x\", "
                                 "\"env\": [1]}\n{\"eof\": true}\n";
            Processed out = process_text(stream, with_handler);
            EXPECT_EQ(out.result.status, JobStatus::error) << value;
            EXPECT_EQ(out.result.error, error) << value;
        }
    }
    for (const char* status : {"5", "null", "\"nonsense\"", "[\"successful\"]"}) {
        Processed out = process_text(
            std::string("{\"status\": ") + status + ", \"runner_ident\": {}}\n{\"eof\": true}\n",
            true);
        EXPECT_EQ(out.result.status, JobStatus::error) << status;
        EXPECT_NE(out.result.error.find("status"), std::string::npos) << out.result.error;
    }
    // A successful status with wrong-typed side fields: those are ignored.
    Processed ok = process_text(
        R"({"status": "successful", "runner_ident": 5, "cwd": 1, "command": [1, "a"], "env": {"A": 1}})"
        "\n{\"eof\": true}\n",
        true);
    EXPECT_EQ(ok.result.status, JobStatus::successful) << ok.result.error;
}

TEST(Processor, AnExceptionFromACallbackIsAnErrorStatus) {
    testing::TempDir tmp;
    std::ofstream(tmp / "stream") << "{\"counter\": 1, \"uuid\": \"" << uid(1)
                                  << "\"}\n{\"status\": \"successful\"}\n{\"eof\": true}\n";
    for (int which = 0; which < 2; ++which) {
        ProcessorOptions options;
        options.private_data_dir = tmp / ("pdd" + std::to_string(which));
        options.console_fd = -1;
        if (which == 0) {
            options.callbacks.event_handler = [](Json&) -> bool {
                throw std::runtime_error("handler broke");
            };
        } else {
            options.callbacks.status_handler = [](const StatusUpdate&) {
                throw std::runtime_error("handler broke");
            };
        }
        ProcessResult result = process_file(tmp / "stream", options);
        EXPECT_EQ(result.status, JobStatus::error);
        EXPECT_NE(result.error.find("handler broke"), std::string::npos) << result.error;
    }
}

// A hostile worker nests an event 10,000,000 deep (20 MB, under the line cap): the handler and
// the writer (which walk values recursively) never see it; the stream ends in an error that
// says why. 1000 levels, Python's own limit, still pass, and are written as they came.
TEST(Processor, AnEventNestedBeyondPythonsLimitIsAnErrorNeverAStackOverflow) {
    testing::TempDir tmp;
    auto nested = [](size_t depth) {
        return "{\"counter\": 1, \"uuid\": \"" + uid(1) +
               "\", \"event_data\": " + std::string(depth, '[') + std::string(depth, ']') + "}\n";
    };
    const std::string end = "{\"status\": \"successful\"}\n{\"eof\": true}\n";
    std::ofstream(tmp / "deep") << nested(10'000'000) << end;
    std::ofstream(tmp / "fine") << nested(999) << end;
    for (const char* name : {"deep", "fine"}) {
        ProcessorOptions options;
        options.private_data_dir = tmp / (std::string("pdd-") + name);
        options.console_fd = -1;
        int handled = 0;
        options.callbacks.event_handler = [&handled](Json&) {
            ++handled;
            return true;
        };
        ProcessResult result = process_file(tmp / name, options);
        if (std::string(name) == "deep") {
            EXPECT_EQ(result.status, JobStatus::error);
            EXPECT_NE(result.error.find("nested more than 1000 levels deep"), std::string::npos)
                << result.error.substr(0, 200);
            EXPECT_EQ(handled, 0);
        } else {
            EXPECT_EQ(result.status, JobStatus::successful) << result.error.substr(0, 200);
            EXPECT_EQ(handled, 1);
            std::string written = slurp(options.private_data_dir / "artifacts" / "job_events" /
                                        ("1-" + uid(1) + ".json"));
            EXPECT_NE(written.find(std::string(999, '[') + std::string(999, ']')),
                      std::string::npos);
        }
    }
}

TEST(Processor, SymlinkOrFifoAtAnEventFileNameIsReplacedNeverFollowed) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "pdd/artifacts/x/job_events");
    std::ofstream(tmp / "outside") << "precious";
    const fs::path events = tmp / "pdd/artifacts/x/job_events";
    fs::create_symlink(tmp / "outside", events / ("1-" + uid(1) + ".json"));
    ASSERT_EQ(::mkfifo((events / ("2-" + uid(2) + ".json")).c_str(), 0600), 0);
    fs::create_symlink(tmp / "nowhere", events / ("3-" + uid(3) + ".json"));
    std::string stream;
    for (int i = 1; i <= 3; ++i) {
        stream += "{\"counter\": " + std::to_string(i) + ", \"uuid\": \"" + uid(i) + "\"}\n";
    }
    std::ofstream(tmp / "stream") << stream << "{\"eof\": true}\n";
    for (bool with_handler : {false, true}) {
        ProcessorOptions options;
        options.private_data_dir = tmp / "pdd";
        options.ident = "x";
        options.console_fd = -1;
        if (with_handler) {
            options.callbacks.event_handler = [](Json&) { return true; };
        }
        ProcessResult result = process_file(tmp / "stream", options);  // must not block
        EXPECT_EQ(result.status, JobStatus::unstarted) << result.error;
        EXPECT_EQ(slurp(tmp / "outside"), "precious");
        EXPECT_FALSE(fs::exists(tmp / "nowhere"));
        for (int i = 1; i <= 3; ++i) {
            fs::path file = events / (std::to_string(i) + "-" + uid(i) + ".json");
            EXPECT_TRUE(S_ISREG(testing::lstat_of(file).st_mode)) << file;
            EXPECT_EQ(Json::parse(slurp(file))["counter"], i);
        }
    }
}

TEST(Processor, ASymlinkAtTheArtifactDirIsRefused) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "pdd/artifacts");
    fs::create_directories(tmp / "outside");
    fs::create_directory_symlink(tmp / "outside", tmp / "pdd/artifacts/x");
    std::ofstream(tmp / "stream") << "{\"counter\": 1, \"uuid\": \"" << uid(1)
                                  << "\"}\n{\"status\": \"successful\"}\n{\"eof\": true}\n";
    ProcessorOptions options;
    options.private_data_dir = tmp / "pdd";
    options.ident = "x";
    options.console_fd = -1;
    ProcessResult result = process_file(tmp / "stream", options);
    EXPECT_EQ(result.status, JobStatus::error);
    EXPECT_NE(result.error.find("symlink"), std::string::npos) << result.error;
    EXPECT_TRUE(fs::is_empty(tmp / "outside"));
}

TEST(Processor, AZipfileAboveTheLimitIsRefusedBeforeSpooling) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "spool");
    const char* old_tmpdir = ::getenv("TMPDIR");
    std::string saved = old_tmpdir ? old_tmpdir : "";
    ::setenv("TMPDIR", (tmp / "spool").c_str(), 1);
    // Valid base64 follows the header: today it would spool until the disk is full.
    std::string payload(1 << 20, 'A');
    for (const std::string& size : {std::string("1000000000000000"), std::string("1025")}) {
        std::ofstream(tmp / "stream") << "{\"zipfile\": " << size << "}\n"
                                      << payload << "\n{\"eof\": true}\n";
        ProcessorOptions options;
        options.private_data_dir = tmp / "pdd";
        options.console_fd = -1;
        options.limits.max_unpacked_bytes = 1024;
        ProcessResult result = process_file(tmp / "stream", options);
        EXPECT_EQ(result.status, JobStatus::error);
        EXPECT_NE(result.error.find("--max-unpacked-bytes"), std::string::npos) << result.error;
        EXPECT_NE(result.error.find(size), std::string::npos) << result.error;
        EXPECT_TRUE(fs::is_empty(tmp / "spool"));
    }
    if (old_tmpdir) {
        ::setenv("TMPDIR", saved.c_str(), 1);
    } else {
        ::unsetenv("TMPDIR");
    }
}

TEST(Processor, ManyEventsAllLand) {
    std::string stream;
    for (int i = 1; i <= 3000; ++i) {
        stream += "{\"uuid\": \"" + uid(i) + "\", \"counter\": " + std::to_string(i) +
                  ", \"stdout\": \"line " + std::to_string(i) + "\"}\n";
    }
    stream += "{\"eof\": true}\n";
    Processed out = process_text(stream, false);
    EXPECT_EQ(out.result.status, JobStatus::unstarted);
    ASSERT_EQ(out.files.size(), 3000u);
    EXPECT_EQ(out.files["2999-" + uid(2999) + ".json"],
              R"({"uuid": ")" + uid(2999) + R"(", "counter": 2999, "stdout": "line 2999"})");
    EXPECT_EQ(out.echo.substr(0, 14), "line 1\nline 2\n");
    EXPECT_EQ(std::count(out.echo.begin(), out.echo.end(), '\n'), 3000);
}

}  // namespace
}  // namespace arunner::stream
