#include "cli/usage.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace arunner::cli {
namespace {

/// argparse's width: the terminal's columns (80 when none) less 2.
constexpr size_t kWidth = 78;
/// argparse's max_help_position.
constexpr size_t kMaxHelpPosition = 24;

/// Words of `text` wrapped to `width` columns (textwrap.wrap, without breaking words).
std::vector<std::string> wrap(const std::string& text, size_t width) {
    std::vector<std::string> lines;
    std::string line;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string word = text.substr(start, end - start);
        start = end + 1;
        if (word.empty()) {
            continue;
        }
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            lines.push_back(line);
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) {
        lines.push_back(line);
    }
    return lines;
}

bool is_flag(const CLI::Option& opt) {
    return opt.get_expected_max() == 0;
}

/// argparse's metavar: the option text if set, else the upper-cased longest name.
std::string metavar(const CLI::Option& opt) {
    if (!opt.get_option_text().empty()) {
        return opt.get_option_text();
    }
    std::string name = opt.get_lnames().empty() ? opt.get_snames().front() : opt.get_lnames()[0];
    for (char& c : name) {
        c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

/// argparse's option strings, in the order given: "-p", "--playbook".
std::vector<std::string> option_strings(const CLI::Option& opt) {
    std::vector<std::string> names;
    for (const auto& s : opt.get_snames()) {
        names.push_back("-" + s);
    }
    for (const auto& l : opt.get_lnames()) {
        names.push_back("--" + l);
    }
    return names;
}

/// The value part after an option string: "" for a flag, " X" or " [X ...]" (nargs='*').
std::string value_text(const CLI::Option& opt) {
    if (is_flag(opt)) {
        return "";
    }
    if (opt.get_allow_extra_args() && opt.get_items_expected_max() > 1) {
        return " [" + metavar(opt) + " ...]";
    }
    return " " + metavar(opt);
}

/// The options of `app` in definition order, the help flag first.
std::vector<const CLI::Option*> options_of(const CLI::App& app) {
    std::vector<const CLI::Option*> options;
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_group().empty()) {
            continue;  // hidden
        }
        options.push_back(opt);
    }
    return options;
}

/// argparse's _format_usage wrapping of parts after "usage: prog".
std::string wrap_usage(const std::string& prog, const std::vector<std::string>& optionals,
                       const std::vector<std::string>& positionals) {
    const std::string prefix = "usage: ";
    std::string all = prog;
    for (const auto* parts : {&optionals, &positionals}) {
        for (const auto& part : *parts) {
            all += " " + part;
        }
    }
    if (prefix.size() + all.size() <= kWidth) {
        return prefix + all + "\n";
    }
    const std::string indent(prefix.size() + prog.size() + 1, ' ');
    auto get_lines = [&](const std::vector<std::string>& parts, bool first) {
        std::vector<std::string> lines;
        std::vector<std::string> line;
        size_t line_len = (first ? prefix.size() : indent.size()) - 1;
        auto flush = [&] {
            std::string text = indent;
            for (size_t i = 0; i < line.size(); ++i) {
                text += (i ? " " : "") + line[i];
            }
            lines.push_back(text);
            line.clear();
        };
        for (const auto& part : parts) {
            if (line_len + 1 + part.size() > kWidth && !line.empty()) {
                flush();
                line_len = indent.size() - 1;
            }
            line.push_back(part);
            line_len += part.size() + 1;
        }
        if (!line.empty()) {
            flush();
        }
        if (first && !lines.empty()) {
            lines[0] = lines[0].substr(indent.size());
        }
        return lines;
    };
    std::vector<std::string> head = {prog};
    head.insert(head.end(), optionals.begin(), optionals.end());
    std::vector<std::string> lines = get_lines(head, true);
    if (!positionals.empty()) {
        auto more = get_lines(positionals, false);
        lines.insert(lines.end(), more.begin(), more.end());
    }
    std::string text = prefix;
    for (size_t i = 0; i < lines.size(); ++i) {
        text += (i ? "\n" : "") + lines[i];
    }
    return text + "\n";
}

/// One help entry: the invocation, then its help from column `help_position`.
std::string format_entry(const std::string& invocation, const std::string& help, size_t indent,
                         size_t help_position) {
    std::string text(indent, ' ');
    text += invocation;
    if (help.empty()) {
        return text + "\n";
    }
    size_t action_width = help_position - indent - 2;
    auto lines = wrap(help, std::max<size_t>(kWidth - help_position, 11));
    if (invocation.size() <= action_width) {
        text += std::string(action_width - invocation.size() + 2, ' ');
    } else {
        text += "\n" + std::string(help_position, ' ');
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        text += (i ? std::string(help_position, ' ') : "") + lines[i] + "\n";
    }
    return text;
}

std::string invocation(const CLI::Option& opt) {
    if (opt.get_positional()) {
        return opt.get_option_text().empty() ? opt.get_name() : opt.get_option_text();
    }
    std::string text;
    for (const auto& name : option_strings(opt)) {
        text += (text.empty() ? "" : ", ") + name + value_text(opt);
    }
    return text;
}

}  // namespace

std::string common_commands_text() {
    return "\n"
           "These are common Ansible Runner commands:\n"
           "\n"
           "    execute a playbook contained in an ansible-runner directory:\n"
           "\n"
           "        arunner run /tmp/private -p playbook.yml\n"
           "        arunner start /tmp/private -p playbook.yml\n"
           "        arunner stop /tmp/private\n"
           "        arunner is-alive /tmp/private\n"
           "\n"
           "    directly execute ansible primitives:\n"
           "\n"
           "        arunner run . -r role_name --hosts myhost\n"
           "        arunner run . -m command -a \"ls -l\" --hosts myhost\n"
           "\n"
           "    ask Ansible, or run any command as a job:\n"
           "\n"
           "        arunner doc ansible.builtin.ping --format json\n"
           "        arunner inventory --list -i /tmp/private/inventory/hosts\n"
           "        arunner command -- ansible-galaxy collection list\n"
           "\n"
           "`arunner --help` list of optional command line arguments\n";
}

std::string Subcommands::choices() const {
    std::string text;
    for (const auto& [name, help] : commands) {
        text += (text.empty() ? "{" : ",") + name;
    }
    return text + "}";
}

CommandLine::CommandLine(std::string prog, const std::string& description)
    : prog_(std::move(prog)), description_(description), app_(description, prog_) {
    app_.set_help_flag("-h,--help", "show this help message and exit");
}

std::string CommandLine::usage() const {
    std::vector<std::string> optionals;
    std::vector<std::string> positionals;
    std::set<const CLI::Option*> shown;  // members of an exclusive group, shown with the first
    for (const CLI::Option* opt : options_of(app_)) {
        if (opt->get_positional()) {
            // A positional's metavar, when given, names it (argparse's metavar).
            positionals.push_back(opt->get_option_text().empty() ? opt->get_name()
                                                                 : opt->get_option_text());
            continue;
        }
        if (shown.count(opt) != 0) {
            continue;
        }
        auto usage_of = [](const CLI::Option& o) { return option_strings(o)[0] + value_text(o); };
        std::string part = "[" + usage_of(*opt);
        for (const CLI::Option* other : options_of(app_)) {
            auto excludes = opt->get_excludes();
            if (std::any_of(excludes.begin(), excludes.end(),
                            [other](const CLI::Option* e) { return e == other; })) {
                part += " | " + usage_of(*other);
                shown.insert(other);
            }
        }
        optionals.push_back(part + "]");
    }
    if (subcommands_) {
        positionals.push_back(subcommands_->choices());
        positionals.emplace_back("...");
    }
    return wrap_usage(prog_, optionals, positionals);
}

std::string CommandLine::help() const {
    std::vector<const CLI::Option*> options = options_of(app_);
    size_t longest = 0;
    for (const CLI::Option* opt : options) {
        longest = std::max(longest, invocation(*opt).size() + 2);
    }
    if (subcommands_) {
        longest = std::max(longest, subcommands_->choices().size() + 2);
        for (const auto& [name, help] : subcommands_->commands) {
            longest = std::max(longest, name.size() + 4);
        }
    }
    const size_t help_position = std::min(longest + 2, kMaxHelpPosition);
    auto section = [&](const std::string& group) {
        std::string text;
        for (const CLI::Option* opt : options) {
            bool in_group = group == "positional arguments" ? opt->get_positional()
                            : group == "options"
                                ? !opt->get_positional() && opt->get_group() == "Options"
                                : opt->get_group() == group;
            if (in_group) {
                text += format_entry(invocation(*opt), opt->get_description(), 2, help_position);
            }
        }
        return text;
    };
    std::string text = usage();
    if (!description_.empty()) {
        text += "\n";
        for (const auto& line : wrap(description_, kWidth)) {
            text += line + "\n";
        }
    }
    for (const char* group : {"positional arguments", "options"}) {
        std::string entries = section(group);
        if (!entries.empty()) {
            text += "\n" + std::string(group) + ":\n" + entries;
        }
    }
    if (subcommands_) {
        text += "\nsubcommands:\n  " + subcommands_->description + "\n\n";
        text += format_entry(subcommands_->choices(), subcommands_->help, 2, help_position);
        for (const auto& [name, help] : subcommands_->commands) {
            text += format_entry(name, help, 4, help_position);
        }
    }
    for (const std::string& group : app_.get_groups()) {
        if (group == "Options") {
            continue;
        }
        std::string entries = section(group);
        if (entries.empty()) {
            continue;
        }
        text += "\n" + group + ":\n";
        for (const auto& [name, description] : group_descriptions_) {
            if (name == group) {
                for (const auto& line : wrap(description, kWidth - 2)) {
                    text += "  " + line + "\n";
                }
                text += "\n";
            }
        }
        text += entries;
    }
    return text;
}

int CommandLine::usage_error(const std::string& message) const {
    std::fputs(usage().c_str(), stderr);
    std::fprintf(stderr, "%s: error: %s\n", prog_.c_str(), util::printable(message).c_str());
    return kUsageExit;
}

namespace {

/// Which of -p/--playbook, -m/--module, -r/--role `arg` is (argparse's name), or nullptr.
const char* what_to_run_flag(const std::string& arg) {
    struct Flag {
        const char* short_name;
        const char* long_name;
        const char* shown;
    };
    static const Flag kFlags[] = {{"-p", "--playbook", "-p/--playbook"},
                                  {"-m", "--module", "-m/--module"},
                                  {"-r", "--role", "-r/--role"}};
    for (const Flag& flag : kFlags) {
        const std::string long_flag = flag.long_name;
        bool is_long = arg == long_flag || arg.rfind(long_flag + "=", 0) == 0;
        bool is_short = arg.rfind(flag.short_name, 0) == 0 && arg.rfind("--", 0) != 0;
        if (is_long || is_short) {
            return flag.shown;
        }
    }
    return nullptr;
}

/// argparse's words for two of -p/-m/-r: the later one on the command line is "not allowed
/// with" the earlier one.
std::string exclusive_message(const std::vector<std::string>& args) {
    const char* first = nullptr;
    for (const auto& arg : args) {
        if (arg == "--") {
            break;
        }
        const char* flag = what_to_run_flag(arg);
        if (flag == nullptr) {
            continue;
        }
        if (first == nullptr) {
            first = flag;
        } else if (std::string(flag) != first) {
            return std::string("argument ") + flag + ": not allowed with argument " + first;
        }
    }
    return "argument -p/--playbook, -m/--module and -r/--role are mutually exclusive";
}

/// argparse's wording for the errors CLI11 reports.
std::string argparse_message(const CLI::ParseError& e, const std::vector<std::string>& args) {
    std::string what = e.what();
    if (e.get_name() == "ExcludesError") {
        return exclusive_message(args);
    }
    if (e.get_name() == "ExtrasError") {
        auto colon = what.find(':');
        return "unrecognized arguments:" +
               (colon == std::string::npos ? " " + what : what.substr(colon + 1));
    }
    return what;
}

}  // namespace

std::optional<int> CommandLine::parse(const std::vector<std::string>& args, bool argparse_wording) {
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app_.parse(reversed);  // CLI11 takes the arguments last-first
    } catch (const CLI::CallForHelp&) {
        std::fputs(help().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        return usage_error(argparse_wording ? argparse_message(e, args) : std::string(e.what()));
    }
    return std::nullopt;
}

}  // namespace arunner::cli
