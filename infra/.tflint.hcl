# tflint for infra/ (GitHub CI: .github/workflows/terraform.yml). The terraform ruleset ships inside tflint, so
# nothing is downloaded at lint time; the AWS ruleset is left out until a pinned version is chosen.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
