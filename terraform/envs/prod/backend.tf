# Remote state in S3 with locking.
#
# Fill in before the first `terraform init`: create (once, per account) a
# versioned, encrypted S3 bucket and, for Terraform < 1.10, a DynamoDB table
# with a string partition key "LockID"; then replace the bucket and table
# names below. Or leave them and override at init time:
#
#   terraform init \
#     -backend-config="bucket=<state-bucket>" \
#     -backend-config="dynamodb_table=<lock-table>"
#
# With Terraform >= 1.10 you may drop dynamodb_table and set
# use_lockfile = true (S3-native locking) instead.
terraform {
  backend "s3" {
    bucket         = "REPLACE-ME-expense-tracker-tfstate"
    key            = "expense-tracker/prod/terraform.tfstate"
    region         = "us-east-1"
    encrypt        = true
    dynamodb_table = "REPLACE-ME-expense-tracker-tflock"
  }
}
