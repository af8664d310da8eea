//! What keys do right now ([`Mode`]) and what each mode holds: the
//! [`LineEdit`] of the command line and filter, the one-line [`Prompt`],
//! the yes/no [`Confirm`] and the new-function [`Form`].

/// A line being edited (command, filter, prompt, form field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    /// The text.
    pub text: String,
    /// Cursor, in chars.
    pub cursor: usize,
}

impl LineEdit {
    /// A line holding `text`, cursor at the end.
    pub fn with(text: &str) -> LineEdit {
        LineEdit {
            text: text.to_owned(),
            cursor: text.chars().count(),
        }
    }
}

/// What a one-line prompt asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// How many environments to preheat.
    Preheat {
        /// The function.
        function: String,
    },
    /// Files or folders to upload to the function's input.
    Upload {
        /// The function.
        function: String,
    },
    /// A definition file to deploy.
    InitFile,
}

/// A one-line prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// Its purpose.
    pub kind: PromptKind,
    /// The answer so far.
    pub edit: LineEdit,
    /// Why the last answer was refused.
    pub error: Option<String>,
    /// Path completions offered (upload).
    pub completions: Vec<String>,
}

/// What a confirmation would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmKind {
    /// Create the demo function and process a few sample files (offered
    /// on the first start against an empty local cloud).
    Demo,
    /// Delete these functions (triggers and log groups too).
    Delete(Vec<String>),
    /// Run the function over every input object (or over `keys`).
    BatchRun {
        /// The function.
        function: String,
        /// Input objects listed, if known.
        inputs: Option<usize>,
    },
}

/// A yes/no question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// What `y` does.
    pub kind: ConfirmKind,
}

/// One field of the new-function form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// Label.
    pub label: &'static str,
    /// Hint shown beside it.
    pub hint: &'static str,
    /// Value.
    pub edit: LineEdit,
    /// What is wrong with it.
    pub error: Option<String>,
}

/// The new-function form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Fields: name, image, script, input, output, memory, timeout.
    pub fields: Vec<FormField>,
    /// The field being edited.
    pub focus: usize,
    /// A form-wide error (the deploy's).
    pub error: Option<String>,
}

/// What keys do right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Pane keys.
    Normal,
    /// `:` command line.
    Command(LineEdit),
    /// `/` filter of the focused pane.
    Filter(LineEdit),
    /// A one-line prompt.
    Prompt(Prompt),
    /// A yes/no question.
    Confirm(Confirm),
    /// The new-function form.
    Form(Form),
    /// Help for the focused pane.
    Help,
}
