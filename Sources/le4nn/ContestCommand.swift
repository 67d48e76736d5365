import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

/// `le4nn contest`: the main job. Trains the ensemble, measures it, writes the answer file.
struct ContestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contest",
        abstract: "Train an ensemble on MNIST (or --dataset) and write the contest answer file into submissions/.",
        discussion: """
        Trains --members models (default 3 × the `cifar-fast` preset with its recipe for digits: 10 \
        epochs at rate 1.0, a mild rotation, zoom and slant, a reflected crop, Lookahead; seeds \
        --seed, --seed+1, ...; optionally cycling through several --augment-sets and --nets), \
        reports each member's and the ensemble's accuracy on the MNIST test set, then answers \
        --input (le4MNIST_X.dump) into submissions/<name>.txt, one digit per line, with \
        submissions/<name>.json describing the models. Without --input it answers the MNIST test \
        images and prints the accuracy that file would score. With --dataset fashion (or cifar10) \
        the same is done for that dataset: its members, its test set, its images in --input.

        Members are kept in --work as member-<seed>-<settings hash>.npz. A member whose file was \
        finished with the same settings is reused, and an unfinished one resumes from its \
        checkpoint, so an interrupted contest run simply continues when started again. Contests \
        sharing --work never train a member twice: one waits for the other's member and reuses it.

        Before training it prints its plan: each member to reuse, resume or train (and any \
        member file of the same seed it cannot reuse, with the settings that differ), and the \
        estimated time from each member net's training speed, measured as `le4nn bench` does \
        (a warm-up step, then at least a second and three steps); progress lines show the time \
        left for all members.

        Several machines: run `le4nn contest --only-member K` (K = 1..members) on machine K with \
        the same options; copy all member-*.npz files into one --work folder; run the same \
        command without --only-member there: it reuses every member and writes the submission. \
        In a job array the member comes from the scheduler when --only-member is not given: \
        Slurm (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1), a Kubernetes Indexed Job \
        (JOB_COMPLETION_INDEX + 1) or AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX + 1); threads follow \
        SLURM_CPUS_PER_TASK. docs/ has an sbatch script and an Indexed Job manifest.

        On a Slurm login node, --slurm does all of that: it submits a job array of one task per \
        member and a combining job that waits for it, both with this command's options, prints \
        their job ids, and returns. Logs go to slurm-le4nn-*.log in the current folder:
          le4nn contest --data /shared/data --input le4MNIST_X.dump --name final \\
              --slurm --sbatch=--partition=cpu --sbatch=--time=2:00:00

        About a minute (times are for an idle 2-core machine), 2 small members:
          le4nn contest --data ../shared/data --quick
        The default ensemble, about an hour on 2 cores (99.75–99.77 % on MNIST test):
          le4nn contest --data ../shared/data
        Half the time, 5 members of the smaller `digits` net for 8 epochs (99.70 %):
          le4nn contest --data ../shared/data --net digits --members 5
        The contest answer, submissions/final.txt:
          le4nn contest --data ../shared/data --input le4MNIST_X.dump --name final
        Fashion-MNIST, 3 members of 20 epochs with erasing, about 2 hours (95.05 %):
          le4nn contest --data ../shared/data --dataset fashion --members 3 \\
              --epochs 20 --lr 1.0 --tta --name fashion \\
              --augment crop:pad=2:mode=reflect,flip:mode=alternate,erasing

        New writers: the contest's digits come from hands MNIST never saw. With --input the \
        members therefore first learn from the images they answer (--semi-supervised: a few \
        minutes) and adapt their batch-norm statistics to them (--adapt-bn: seconds); both use \
        the images alone, and --no-semi-supervised, --no-adapt-bn turn them off. Measure on a \
        stand-in for new writers (`le4nn distort`), answered as --input and scored afterwards \
        with `le4nn inspect ANSWERS --labels LABELS`.
        """)

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Dataset of the members, the test accuracy and --input: mnist (the contest's digits), fashion or cifar10.")
    var dataset: Dataset = .mnist
    @OptionGroup var options: TrainOptions
    @Option(parsing: .unconditional, help: "Number of ensemble members (default: 3, with --quick 2).") var members: Int?
    @Option(help: "Augmentation sets for the members, separated by ';', used in turn (default: --augment for all).")
    var augmentSets: String?
    @Option(help: "Nets for the members, separated by ';', used in turn (default: --net for all).") var nets: String?
    @Option(help: "Contest dump to answer (le4MNIST_X.dump), or IDX images. Without it the test images are answered.")
    var input: String?
    @Option(help: "Submission name: writes submissions/<name>.txt and .json.") var name: String = "answer"
    @Option(help: "Folder for the submission files.") var submissions: String = "submissions"
    @Option(help: "Folder for the member models.") var work: String = "runs/contest"
    @Option(parsing: .unconditional, help: "Train only member K (1-based) and stop: for one machine of several.") var onlyMember: Int?
    @Flag(help: "Quick mode: 2 mnist-small members (unless --net) for 2 epochs (unless --members, --epochs), about a minute.") var quick = false
    @Flag(help: "Test-time augmentation, for the test accuracy and the answers: average each member over the digit and its one-pixel shifts (garments and objects: airbench's six mirrored and moved views, as evaluate --tta).")
    var tta = false
    @Flag(inversion: .prefixedNo, help: "BN adaptation: before answering, re-estimate each member's batch-norm statistics on the images answered (--input, else the test images), for writers unlike the training set's. Uses the images only; the member files stay as trained. Default: on with --input, off without.")
    var adaptBn: Bool?
    @Flag(inversion: .prefixedNo, help: "Semi-supervised learning on the images answered (--input, else the test images): the ensemble answers them; of the images answered as each class, the most confident (--pseudo-fraction) join the training images with those answers as labels; each member is fine-tuned on the mix (--pseudo-epochs at --pseudo-rate of its rate); the ensemble answers again (--pseudo-rounds times). Uses the images only, never labels; the member files stay as trained. With --adapt-bn, the adaptation follows. Default: on with --input, off without.")
    var semiSupervised: Bool?
    @Option(parsing: .unconditional, help: "With --semi-supervised: of the images answered as each class, the most confident fraction pseudo-labelled, and at most that fraction of an equal share of the images (default 0.9).")
    var pseudoFraction: Double?
    @Option(parsing: .unconditional, help: "With --semi-supervised: fine-tuning epochs per round, each of every pseudo-labelled image and as many training images (default 2).")
    var pseudoEpochs: Int?
    @Option(parsing: .unconditional, help: "With --semi-supervised: rounds of answering, choosing and fine-tuning (default 1).")
    var pseudoRounds: Int?
    @Option(parsing: .unconditional, help: "With --semi-supervised: the fine-tuning rate as a fraction of the member's own, decaying to 0 (default 0.1).")
    var pseudoRate: Double?
    @Flag(help: "Submit the contest to Slurm instead of running it: a job array trains the members side by side, then a combining job writes the submission. Run it on a login node, from a folder the nodes share.")
    var slurm = false
    @Option(name: .customLong("sbatch"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An sbatch option for both jobs of --slurm, once per option (--sbatch=--partition=cpu --sbatch=--time=2:00:00); default --cpus-per-task=2 --mem=3G.", valueName: "sbatch-option"))
    var sbatchOptions: [String] = []
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        try checkCount(members, "members", Limits.members)
        try checkSubmissionName(name)
        let semi = try semiSupervisedSettings()
        var base = options
        let count = members ?? (quick ? 2 : 3)
        if quick {
            // Quick mode only supplies defaults: what the command line says is honoured, and said.
            if base.epochs == nil { base.epochs = 2 }
            let given = [members.map { "--members \($0)" }, options.epochs.map { "--epochs \($0)" }].compactMap { $0 }
            print("quick mode: \(count) members for \(base.epochs ?? 2) epochs" + (given.isEmpty ? "" : " (\(given.joined(separator: ", ")) as given)"))
        }
        // One member per job of a cluster's job array, unless --only-member says otherwise.
        let arrayJob = onlyMember == nil ? try arrayJobMember(environment: ProcessInfo.processInfo.environment) : nil
        let only = onlyMember ?? arrayJob?.member
        if let k = only, !(1 ... count).contains(k) {
            throw ValidationError("\(arrayJob.map { "the job array's \($0.source) selects member \(k), but" } ?? "--only-member must be between 1 and \(count):") "
                + "there are \(count) members")
        }
        if slurm {
            guard only == nil else {
                throw ValidationErrorText("--slurm submits every member from a login node; it takes no --only-member and does not run "
                    + "inside a job array (\(arrayJob?.source ?? "--only-member") is set)")
            }
            try SlurmSubmission.checkOptions(sbatchOptions)
            _ = try dataset.folder(root: data.root)  // the nodes read the same folder
            if let i = input, !FileManager.default.isReadableFile(atPath: i) { throw DataError(i, "cannot read the images to answer") }
        } else if !sbatchOptions.isEmpty {
            throw ValidationErrorText("--sbatch gives options to the jobs of --slurm: add --slurm, or drop --sbatch")
        }
        if let job = arrayJob { print("member \(job.member) of \(count), from \(job.source)") }
        let augments = augmentSets?.split(separator: ";").map(String.init)
        let netList = nets?.split(separator: ";").map(String.init)
        if augments?.isEmpty == true || netList?.isEmpty == true {
            throw ValidationError("--augment-sets and --nets need at least one entry, separated by ';'")
        }
        let policy = replace.policy(inputs: (input.map { [$0] } ?? []) + dataset.files(root: data.root))
        let folders = CreatedFolders()
        try folders.make(work)
        // Array tasks share --work: one that fails must not remove it from under the others.
        if only != nil { folders.kept = true }
        var contest = ContestRun(dataset: dataset, dataRoot: data.root, runs: [], work: work, input: input,
                                 answerPath: "\(submissions)/\(name).txt", sidecarPath: "\(submissions)/\(name).json", policy: policy)
        (contest.only, contest.tta, contest.adaptBn, contest.semiSupervised) = (only, tta, adaptBn ?? (input != nil), semi)
        // A run that trains one member coordinates through that member's lock alone: array tasks
        // run side by side on one --work, and none of them writes the submission.
        var submission = only == nil && !slurm ? try contest.prepareSubmission(folders: folders) : nil
        contest.images = submission?.images
        defer {
            submission = nil  // the answer file's lock, in --submissions, goes first,
            withExtendedLifetime(folders) {}  // then the empty folders this run made
        }
        // Ctrl-C stops after the current batch of the member in training (or, while the plan is
        // made, before the first one), and says which member stopped after which epoch; the same
        // command then continues.
        Interrupt.catchStopSignals()
        if !slurm { print("preparing \(only.map { "member \($0) of \(count)" } ?? "\(count) members") (checking their files, measuring the training speed for the plan)...") }
        contest.runs = try ContestRun.memberRuns(base.request, count: count, augments: augments, nets: netList, quick: quick,
                                                 dataset: dataset, dataRoot: data.root, work: work, policy: policy)
        if slurm {  // every member's settings were checked above
            try SlurmSubmission(contestArguments: SlurmSubmission.contestArguments(Array(CommandLine.arguments.dropFirst())),
                                sbatchOptions: sbatchOptions, members: count, answerPath: contest.answerPath, work: work).submit()
            return
        }
        try contest.train()
        folders.kept = true
        if let k = only { print("trained member \(k) of \(count); combine the member files in one --work folder"); return }
        try contest.answer()
    }

    /// --semi-supervised with its settings, checked; nil when it is off, and then a setting given
    /// is refused rather than ignored.
    func semiSupervisedSettings() throws -> SemiSupervised? {
        let given = [("--pseudo-fraction", pseudoFraction != nil), ("--pseudo-epochs", pseudoEpochs != nil),
                     ("--pseudo-rounds", pseudoRounds != nil), ("--pseudo-rate", pseudoRate != nil)].filter(\.1).map(\.0)
        // On by default for other images than the test set's: they may be other writers'.
        guard semiSupervised ?? (input != nil) else {
            if let option = given.first {
                throw ValidationErrorText("\(option) is a setting of --semi-supervised, which is off"
                    + (semiSupervised == false ? " (--no-semi-supervised)" : " without --input") + ": add --semi-supervised, or drop it")
            }
            return nil
        }
        var semi = SemiSupervised()
        semi.fraction = pseudoFraction ?? semi.fraction
        semi.epochs = pseudoEpochs ?? semi.epochs
        semi.rounds = pseudoRounds ?? semi.rounds
        semi.rate = pseudoRate ?? semi.rate
        try semi.check()
        return semi
    }
}
