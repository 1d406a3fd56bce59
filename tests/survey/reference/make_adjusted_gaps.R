# Reference for adjusted gaps (evaluation/survey/adjusted.py, tests/survey/test_adjusted_gaps_r.py):
# the raked two-wave panel of make_raked_panel.R (each wave raked to its own margins), and per domain
# the coefficient of the group indicator in svyglm(y ~ g + covariates, design = subset(raked, domain)).
# Run from the repository root (after make_raked_panel.R):
#   Rscript tests/survey/reference/make_adjusted_gaps.R
# Writes adjusted_gaps_reference.csv next to this script.
suppressMessages(library(survey))
here <- "tests/survey/reference"
source(file.path(here, "rake_panel.R"))
d <- read.csv(file.path(here, "raked_panel.csv"), colClasses = c(respondent_id = "character", municipality_code = "character"))
margins <- read.csv(file.path(here, "raked_panel_margins.csv"), colClasses = c(category = "character"))
d$area <- ifelse(d$municipality_code == "0101", "pilot", "control")
d$y_binary <- as.numeric(d$y > 6)
raked <- rake_panel(d, margins)

cases <- list(
  list(group = "education", a = "higher", b = "compulsory", covariates = "gender"),
  list(group = "gender", a = "female", b = "male", covariates = "education")
)
rows <- list()
for (case in cases) for (outcome in c("y", "y_binary")) for (area in c("all", "pilot", "control")) for (w in 1:2) {
  keep <- raked$variables$wave == w & raked$variables[[case$group]] %in% c(case$a, case$b)
  if (area != "all") keep <- keep & raked$variables$area == area
  sub <- subset(raked, keep)
  sub$variables$g <- as.numeric(sub$variables[[case$group]] == case$a)
  formula <- as.formula(paste(outcome, "~ g +", paste(sprintf("factor(%s)", case$covariates), collapse = " + ")))
  fit <- svyglm(formula, design = sub)
  command <- sprintf("svyglm(%s, subset(raked, wave == %d & %s %%in%% c('%s', '%s')%s))", deparse(formula), w,
                     case$group, case$a, case$b, if (area == "all") "" else sprintf(" & area == '%s'", area))
  rows[[length(rows) + 1]] <- data.frame(
    group_variable = case$group, group_a = case$a, group_b = case$b, covariates = case$covariates,
    outcome = outcome, area = area, wave = w, estimate = coef(fit)[["g"]], se = SE(fit)[["g"]],
    df = fit$df.residual, command = command)
}
write.csv(do.call(rbind, rows), file.path(here, "adjusted_gaps_reference.csv"), row.names = FALSE)
cat(R.version.string, "survey", as.character(packageVersion("survey")), "\n")
